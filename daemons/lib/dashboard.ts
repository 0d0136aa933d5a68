// The CloudWatch dashboard of the pipeline: one body built from the config and the alarms, written with
// PutDashboard only when it differs from what is there (so a second bootstrap changes nothing).
import { type CloudWatchClient, GetDashboardCommand, PutDashboardCommand } from '@aws-sdk/client-cloudwatch';
import { wrap } from './errors.js';

export interface DashboardSettings {
  namespace: string;
  region: string;
  topic: string;
  periodSeconds: number;
  /** ARNs of the alarms shown in the alarm-status widget */
  alarmArns: string[];
  /** the scheduler's job names (dashboardJobs: etl, compact, crawl, report-...) */
  jobs: string[];
  /** the lake's tables (the ETL specs' table names): one send → lake line each */
  tables: string[];
}

type MetricLine = (string | { stat?: string; label?: string })[];

/** The scheduler's jobs that are not reports (each saved report is a job of its own, report-<name>): a
 * JobDuration line each on the dashboard, in this order, then the reports'. The aws_resources role lists
 * the same (tasks/cloudwatch.yml; test/unit/dashboard.test.ts holds them equal, and to the job table). */
export const LAKE_JOBS = ['etl', 'compact', 'crawl'] as const;

/** The dashboard's job lines: the lake's jobs, then report-<name> of every saved report. */
export const dashboardJobs = (reportNames: string[]): string[] => [...LAKE_JOBS, ...reportNames.map((r) => `report-${r}`)];

/** One metric a widget charts: name, the Daemon that publishes it and the other dimensions (for the checks). */
export interface ChartedMetric {
  widget: string;
  metric: string;
  dimensions: Record<string, string>;
}

// The one definition of the dashboard. `kafkalake bootstrap` renders it with the config's values
// (dashboardBody); the Ansible role renders the same definition from templates/dashboard.json.j2, which
// dashboardTemplate() writes with Jinja expressions in place of the values (test/unit/dashboard.test.ts
// keeps the file equal to it and renders it with Jinja to compare). A value is either known (bootstrap)
// or a placeholder token the template turns into a Jinja expression.
const TOKEN = '\u0000kl:';
const tok = (name: string) => `${TOKEN}${name}\u0000`;
const JOB_LINES = tok('jobLines');
const JOB = tok('job');
const TABLE_LINES = tok('tableLines');
const TABLE = tok('table');

function definition(v: {
  namespace: string;
  region: string;
  topic: string;
  period: number | string;
  alarms: string[] | string | undefined;
  jobs: MetricLine[] | string;
  /** the send → lake lines, one per table (or the template's loop token) */
  tables: MetricLine[] | string;
}) {
  const ns = v.namespace;
  let y = 0;
  const widgets: unknown[] = [];
  let graphs = 0;
  const graph = (title: string, metrics: MetricLine[] | string, stat = 'Sum', width = 12) => {
    const x = graphs++ % 2 === 0 ? 0 : 12;
    widgets.push({ type: 'metric', x, y, width, height: 6, properties: { title, region: v.region, view: 'timeSeries', stat, period: v.period, metrics } });
    if (x === 12 || width === 24) y += 6;
  };
  if (v.alarms !== undefined) {
    widgets.push({ type: 'alarm', x: 0, y, width: 24, height: 3, properties: { title: 'Alarms', alarms: v.alarms } });
    y += 3;
  }
  graph('Records in / staged', [
    [ns, 'RecordsIn', 'Daemon', 'consumer', 'Topic', v.topic],
    [ns, 'RecordsStaged', 'Daemon', 'consumer', 'Topic', v.topic],
  ]);
  // the group's lag as the scheduler measures it from Kafka (the consumer's own ConsumerLag is per partition)
  graph('Consumer group lag (records)', [[ns, 'ConsumerGroupLag', 'Daemon', 'scheduler', 'Topic', v.topic]], 'Maximum');
  // the Kafka cluster as the scheduler measures it: partitions of every topic, brokers against kafka.expectedBrokers
  graph(
    'Kafka cluster (brokers, partitions of every topic)',
    ['BrokersAlive', 'BrokersMissing', 'UnderReplicatedPartitions', 'OfflinePartitions'].map((m) => [ns, m, 'Daemon', 'scheduler']),
    'Maximum',
  );
  graph('Dead-lettered records', [[ns, 'DlqRecords', 'Daemon', 'consumer', 'Topic', v.topic]]);
  graph('S3 PUT latency (ms)', [[ns, 'PutLatency', 'Daemon', 'consumer', 'Topic', v.topic, { stat: 'Average' }]], 'Average');
  // freshness: each staged object's oldest record, and each ETL run's (LakeLatency per table)
  graph('Freshness (ms): send → staged, send → lake', typeof v.tables === 'string' ? v.tables : [stagedLine(ns, v.topic), ...v.tables], 'Maximum');
  // JobDuration is published per job (Daemon + Job): one line per job
  graph('Job duration (ms)', v.jobs, 'Maximum');
  graph(
    'Job failures',
    [...LAKE_JOBS, 'report'].map((k) => [ns, 'JobFailure', 'Daemon', 'scheduler', 'Kind', k]),
  );
  const daemons = ['producer', 'consumer', 'scheduler'];
  graph('Heartbeats', daemons.map((d) => [ns, 'Heartbeat', 'Daemon', d]), 'SampleCount');
  graph('Process memory (RSS bytes)', daemons.map((d) => [ns, 'MemoryRss', 'Daemon', d]), 'Maximum');
  graph('Event-loop delay p99 (ms)', daemons.map((d) => [ns, 'EventLoopDelay', 'Daemon', d]), 'Maximum');
  return { widgets };
}

const jobLine = (ns: string) => (job: string): MetricLine => [ns, 'JobDuration', 'Daemon', 'scheduler', 'Job', job];
const stagedLine = (ns: string, topic: string): MetricLine => [ns, 'StagedLatency', 'Daemon', 'consumer', 'Topic', topic];
const tableLine = (ns: string) => (table: string): MetricLine => [ns, 'LakeLatency', 'Daemon', 'scheduler', 'Table', table];

export function dashboardBody(s: DashboardSettings): string {
  return JSON.stringify(
    definition({
      namespace: s.namespace,
      region: s.region,
      topic: s.topic,
      period: s.periodSeconds,
      alarms: s.alarmArns.length > 0 ? [...s.alarmArns].sort() : undefined,
      jobs: s.jobs.map(jobLine(s.namespace)),
      tables: s.tables.map(tableLine(s.namespace)),
    }),
  );
}

/** The Jinja expressions of the Ansible role's variables the template fills (names as in the role). */
export const TEMPLATE_VARIABLES = {
  namespace: 'aws_resources_metrics_namespace',
  region: 'aws_resources_region',
  topic: 'aws_resources_topic',
  period: 'aws_resources_alarm_period_seconds',
  /** set by tasks/cloudwatch.yml: the ARNs of the alarms of config/alarms.json, sorted */
  alarms: '__aws_resources_dashboard_alarm_arns',
  /** set by tasks/cloudwatch.yml: LAKE_JOBS, then report-<name> of every sql/reports/*.sql */
  jobs: '__aws_resources_dashboard_jobs',
  /** set by tasks/cloudwatch.yml: the table of every glue/tables/*.json */
  tables: '__aws_resources_dashboard_tables',
} as const;

/** templates/dashboard.json.j2 of the aws_resources role: this definition, the values as Jinja expressions. */
export function dashboardTemplate(): string {
  const V = TEMPLATE_VARIABLES;
  const quoted = (t: string) => JSON.stringify(t);
  const fill = (json: string) =>
    json
      .replaceAll(quoted(tok('namespace')), `{{ ${V.namespace} | to_json }}`)
      .replaceAll(quoted(tok('region')), `{{ ${V.region} | to_json }}`)
      .replaceAll(quoted(tok('topic')), `{{ ${V.topic} | to_json }}`)
      .replaceAll(quoted(tok('period')), `{{ ${V.period} | int }}`)
      .replaceAll(quoted(tok('alarms')), `{{ ${V.alarms} | sort | to_json }}`)
      .replaceAll(quoted(JOB), '{{ job | to_json }}')
      .replaceAll(quoted(TABLE), '{{ table | to_json }}');
  const line = fill(JSON.stringify(jobLine(tok('namespace'))(JOB)));
  const staged = fill(JSON.stringify(stagedLine(tok('namespace'), tok('topic'))));
  const table = fill(JSON.stringify(tableLine(tok('namespace'))(TABLE)));
  const body = fill(
    JSON.stringify(
      definition({ namespace: tok('namespace'), region: tok('region'), topic: tok('topic'), period: tok('period'), alarms: tok('alarms'), jobs: JOB_LINES, tables: TABLE_LINES }),
      null,
      1,
    ),
  )
    .replace(quoted(JOB_LINES), `[{% for job in ${V.jobs} %}${line}{{ '' if loop.last else ',' }}{% endfor %}]`)
    .replace(quoted(TABLE_LINES), `[${staged}{% for table in ${V.tables} %},${table}{% endfor %}]`);
  return `{# Generated from daemons/lib/dashboard.ts (dashboardTemplate): do not edit; regenerate with
   node dist/test/unit/dashboard-template.js > ansible/roles/aws_resources/templates/dashboard.json.j2 #}
${body}
`;
}

/** Every metric the widgets of a rendered body chart, with its dimensions. */
export function chartedMetrics(body: string): ChartedMetric[] {
  const out: ChartedMetric[] = [];
  const parsed = JSON.parse(body) as { widgets: { type: string; properties: { title: string; metrics?: MetricLine[] } }[] };
  for (const w of parsed.widgets) {
    if (w.type !== 'metric') continue;
    let last: string[] = [];
    for (const raw of w.properties.metrics ?? []) {
      // a "." repeats the previous line's value at that position, as CloudWatch reads it
      const line = raw.filter((x): x is string => typeof x === 'string').map((x, i) => (x === '.' ? (last[i] ?? '.') : x));
      last = line;
      const dimensions: Record<string, string> = {};
      for (let i = 2; i + 1 < line.length; i += 2) dimensions[line[i] as string] = line[i + 1] as string;
      out.push({ widget: w.properties.title, metric: line[1] ?? '', dimensions });
    }
  }
  return out;
}

/** Write the dashboard unless it already has this body. */
export async function putDashboard(cw: CloudWatchClient, name: string, body: string): Promise<'created' | 'updated' | 'unchanged'> {
  const where = `CloudWatch dashboard ${name}`;
  let current: string | undefined;
  try {
    current = (await cw.send(new GetDashboardCommand({ DashboardName: name }))).DashboardBody;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name !== 'ResourceNotFound' && e.name !== 'ResourceNotFoundException' && e.$metadata?.httpStatusCode !== 404) throw wrap(err, where, 'GetDashboard failed');
  }
  if (current !== undefined && JSON.stringify(JSON.parse(current)) === JSON.stringify(JSON.parse(body))) return 'unchanged';
  try {
    await cw.send(new PutDashboardCommand({ DashboardName: name, DashboardBody: body }));
  } catch (err) {
    throw wrap(err, where, 'PutDashboard failed');
  }
  return current === undefined ? 'created' : 'updated';
}
