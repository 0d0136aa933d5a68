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
  /** the scheduler's job names (etl, crawl, report-...) */
  jobs: string[];
}

type MetricLine = (string | { stat?: string; label?: string })[];

export function dashboardBody(s: DashboardSettings): string {
  const ns = s.namespace;
  let y = 0;
  const widgets: unknown[] = [];
  const graph = (title: string, metrics: MetricLine[], stat = 'Sum', width = 12) => {
    const x = widgets.length % 2 === 0 ? 0 : 12;
    widgets.push({ type: 'metric', x, y, width, height: 6, properties: { title, region: s.region, view: 'timeSeries', stat, period: s.periodSeconds, metrics } });
    if (x === 12 || width === 24) y += 6;
  };
  if (s.alarmArns.length > 0) {
    widgets.push({ type: 'alarm', x: 0, y, width: 24, height: 3, properties: { title: 'Alarms', alarms: [...s.alarmArns].sort() } });
    y += 3;
  }
  graph('Records in / staged', [
    [ns, 'RecordsIn', 'Daemon', 'consumer', 'Topic', s.topic],
    [ns, 'RecordsStaged', 'Daemon', 'consumer', 'Topic', s.topic],
  ]);
  graph('Consumer group lag (records)', [[ns, 'ConsumerGroupLag', 'Daemon', 'scheduler', 'Topic', s.topic]], 'Maximum');
  graph('Dead-lettered records', [[ns, 'DlqRecords', 'Daemon', 'consumer', 'Topic', s.topic]]);
  graph('S3 PUT latency (ms)', [[ns, 'PutLatency', 'Daemon', 'consumer', 'Topic', s.topic, { stat: 'Average' }]], 'Average');
  graph(
    'Job duration (ms)',
    s.jobs.map((j) => [ns, 'JobDuration', 'Daemon', 'scheduler', 'Job', j]),
    'Maximum',
  );
  graph(
    'Job failures',
    ['etl', 'crawl', 'report'].map((k) => [ns, 'JobFailure', 'Daemon', 'scheduler', 'Kind', k]),
  );
  const daemons = ['producer', 'consumer', 'scheduler'];
  graph(
    'Heartbeats',
    daemons.map((d) => [ns, 'Heartbeat', 'Daemon', d]),
    'SampleCount',
  );
  graph(
    'Process memory (RSS bytes)',
    daemons.map((d) => [ns, 'MemoryRss', 'Daemon', d]),
    'Maximum',
  );
  graph(
    'Event-loop delay p99 (ms)',
    daemons.map((d) => [ns, 'EventLoopDelay', 'Daemon', d]),
    'Maximum',
  );
  return JSON.stringify({ widgets });
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
