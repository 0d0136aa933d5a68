// What `kafkalake status` shows, gathered: each daemon's heartbeat age, the Kafka cluster's health (brokers
// up of expected, controller, under-replicated and offline partitions), record rates, lag per partition,
// staging and lake freshness, the last and next run of each scheduler job, the DLQ, the alarms in
// ALARM. Sources: CloudWatch (the twin locally), Kafka's admin API and the bucket's staging/ and
// _state/. Each section is gathered on its own: a source that is down shows as that section's error.
import { type CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { ListObjectsV2Command, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { alarmsFromConfig, describeAlarms, evaluateAlarms, evaluatesAlarms } from '../lib/alarms.js';
import { createAwsClients } from '../lib/aws.js';
import type { Config } from '../lib/config/index.js';
import { type ClusterHealth, clusterProblems, expectedBrokersOf, measureClusterOnce } from '../lib/cluster-health.js';
import { oneLine } from '../lib/errors.js';
import { isFolderMarker } from '../lib/etl/store.js';
import { createKafka } from '../lib/kafka.js';
import { measureLagOnce, type PartitionLag } from '../lib/lag.js';
import type { Logger } from '../lib/log.js';
import { resolveFromRoot } from '../lib/paths.js';
import { type History, lastRun, s3History } from '../scheduler/history.js';
import type { RunRecord } from '../scheduler/job.js';
import { nextFire } from '../scheduler/times.js';

export const DAEMONS = ['producer', 'consumer', 'scheduler'] as const;

export type Section<T> = { ok: true; value: T } | { ok: false; error: string };

export interface DaemonHealth {
  daemon: string;
  state: 'up' | 'down' | 'no metrics';
  /** seconds since the newest period with a heartbeat (upper bound: the period's start) */
  heartbeatAgeS: number | null;
  memoryRssMb: number | null;
  eventLoopDelayMs: number | null;
}

export interface JobStatus {
  name: string;
  schedule: string;
  last: RunRecord | null;
  next: string | null;
  skipped: number;
}

export interface StatusReport {
  at: string;
  mode: string;
  bucket: string;
  topic: string;
  healthy: boolean;
  problems: string[];
  daemons: Section<DaemonHealth[]>;
  cluster: Section<ClusterHealth>;
  rates: Section<{ windowS: number; recordsInPerS: number; recordsStagedPerS: number; dlqRecords: number }>;
  lag: Section<{ total: number; partitions: PartitionLag[] }>;
  freshness: Section<{ newestStaged: string | null; stagedAgeS: number | null; lakeUpdated: string | null; lakeAgeS: number | null }>;
  jobs: Section<JobStatus[]>;
  /** DLQ objects: both stages', then each stage's */
  dlq: Section<{ objects: number; truncated: boolean; consumer: number; etl: number }>;
  alarms: Section<{ evaluatedHere: boolean; defined: number; inAlarm: { name: string; reason: string; since: string | null }[] }>;
}

export interface StatusDeps {
  config: Readonly<Config>;
  log: Logger;
  now?: () => Date;
  /** the scheduler's jobs, name and schedule (the status command builds them from the run table) */
  jobs: { name: string; cron: string; dependsOn?: string }[];
}

const settle = async <T>(p: Promise<T>): Promise<Section<T>> => {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    return { ok: false, error: oneLine(err) };
  }
};

export async function metricSeries(cw: CloudWatchClient, queries: MetricDataQuery[], start: Date, end: Date) {
  // whole seconds, the end rounded up: the twin truncates both, and the newest datum must stay inside
  const r = await cw.send(
    new GetMetricDataCommand({
      StartTime: new Date(Math.floor(start.getTime() / 1000) * 1000),
      EndTime: new Date(Math.ceil(end.getTime() / 1000) * 1000),
      MetricDataQueries: queries,
      ScanBy: 'TimestampDescending',
    }),
  );
  const out = new Map<string, { t: Date; v: number }[]>();
  for (const res of r.MetricDataResults ?? []) {
    out.set(
      res.Id ?? '',
      (res.Timestamps ?? []).map((t, i) => ({ t, v: res.Values?.[i] ?? 0 })).sort((a, b) => b.t.getTime() - a.t.getTime()),
    );
  }
  return out;
}

/** the newest object under prefix (folder markers are no data) */
export async function newestKey(s3: S3Client, bucket: string, prefix: string): Promise<{ key: string; at: Date } | null> {
  // dt=YYYY-MM-DD folders sort by date: the newest objects are under the last one
  const dts = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/' }));
  const last = (dts.CommonPrefixes ?? []).map((p) => p.Prefix ?? '').sort().pop();
  if (!last) return null;
  let best: { key: string; at: Date } | null = null;
  for await (const r of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: last })) {
    for (const o of r.Contents ?? []) if (o.Key && !isFolderMarker(o.Key) && o.LastModified && (!best || o.LastModified > best.at)) best = { key: o.Key, at: o.LastModified };
  }
  return best;
}

/** the objects under prefix, at most 10 pages (10,000 objects): beyond that the count says "or more" */
export async function countObjects(s3: S3Client, bucket: string, prefix: string, kind?: (key: string) => string): Promise<{ objects: number; truncated: boolean; byKind: Record<string, number> }> {
  let objects = 0;
  let pages = 0;
  let truncated = false;
  const byKind: Record<string, number> = {};
  for await (const r of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    // not KeyCount: folder markers are no data
    const keys = (r.Contents ?? []).map((o) => o.Key).filter((k): k is string => k !== undefined && !isFolderMarker(k));
    objects += keys.length;
    if (kind) for (const k of keys) byKind[kind(k)] = (byKind[kind(k)] ?? 0) + 1;
    if (++pages === 10 && r.IsTruncated) {
      truncated = true;
      break;
    }
  }
  return { objects, truncated, byKind };
}

export async function gatherStatus(deps: StatusDeps): Promise<StatusReport> {
  const { config: c } = deps;
  const now = (deps.now ?? (() => new Date()))();
  const aws = createAwsClients(c);
  const ns = c.metrics.namespace;
  const period = c.monitoring.periodSeconds;
  const topic = c.kafka.topic;
  const staging = c.consumer.stagingPrefix.replace(/\/$/, '');
  try {
    const metricOf = (id: string, name: string, dims: Record<string, string>, stat: string): MetricDataQuery => ({
      Id: id,
      MetricStat: { Metric: { Namespace: ns, MetricName: name, Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })) }, Period: period, Stat: stat },
    });
    // a daemon is down when no heartbeat came for 3 flush intervals (and at least 3 periods)
    const maxAgeS = 3 * Math.max(c.metrics.flushIntervalMs / 1000, period);
    const daemons = settle(
      (async () => {
        const start = new Date(now.getTime() - Math.max(900, 2 * maxAgeS) * 1000);
        const q = DAEMONS.flatMap((d, i) => [
          metricOf(`h${i}`, 'Heartbeat', { Daemon: d }, 'SampleCount'),
          metricOf(`m${i}`, 'MemoryRss', { Daemon: d }, 'Maximum'),
          metricOf(`e${i}`, 'EventLoopDelay', { Daemon: d }, 'Maximum'),
        ]);
        const s = await metricSeries(aws.cloudwatch, q, start, now);
        return DAEMONS.map((daemon, i): DaemonHealth => {
          const hb = s.get(`h${i}`)?.find((x) => x.v > 0);
          const age = hb ? Math.max(0, Math.round((now.getTime() - hb.t.getTime()) / 1000)) : null;
          const mem = s.get(`m${i}`)?.[0]?.v;
          const loop = s.get(`e${i}`)?.[0]?.v;
          return {
            daemon,
            state: age === null ? (daemon === 'producer' ? 'no metrics' : 'down') : age <= maxAgeS ? 'up' : 'down',
            heartbeatAgeS: age,
            memoryRssMb: mem === undefined ? null : Math.round(mem / 1048576),
            eventLoopDelayMs: loop === undefined ? null : Math.round(loop * 10) / 10,
          };
        });
      })(),
    );
    const rates = settle(
      (async () => {
        const windowS = 5 * period;
        const start = new Date(now.getTime() - windowS * 1000);
        const dims = { Daemon: 'consumer', Topic: topic };
        const s = await metricSeries(aws.cloudwatch, [metricOf('i', 'RecordsIn', dims, 'Sum'), metricOf('s', 'RecordsStaged', dims, 'Sum'), metricOf('d', 'DlqRecords', dims, 'Sum')], start, now);
        const sum = (id: string) => (s.get(id) ?? []).reduce((a, x) => a + x.v, 0);
        return { windowS, recordsInPerS: Math.round((sum('i') / windowS) * 10) / 10, recordsStagedPerS: Math.round((sum('s') / windowS) * 10) / 10, dlqRecords: sum('d') };
      })(),
    );
    const kafka = createKafka({ kafka: { ...c.kafka, retries: 1, requestTimeoutMs: Math.min(c.kafka.requestTimeoutMs, 5000) }, log: deps.log, clientSuffix: 'status' });
    const cluster = settle(measureClusterOnce(kafka, { topic, expected: expectedBrokersOf(c.kafka) }));
    const lag = settle(
      (async () => {
        const partitions = await measureLagOnce(kafka, c.consumer.groupId, topic);
        return { total: partitions.reduce((a, p) => a + p.lag, 0), partitions };
      })(),
    );
    const freshness = settle(
      (async () => {
        const newest = await newestKey(aws.s3, c.aws.bucket, `${staging}/${topic}/`);
        const { readBookmarkTime } = await bookmarkTime(aws.s3, c.aws.bucket, c.etl.jobName);
        return {
          newestStaged: newest?.key ?? null,
          stagedAgeS: newest ? Math.round((now.getTime() - newest.at.getTime()) / 1000) : null,
          lakeUpdated: readBookmarkTime,
          lakeAgeS: readBookmarkTime ? Math.round((now.getTime() - Date.parse(readBookmarkTime)) / 1000) : null,
        };
      })(),
    );
    const jobs = settle(
      (async () => {
        const h: History = await s3History(aws.s3, c.aws.bucket).load();
        const names = new Set([...deps.jobs.map((j) => j.name), ...Object.keys(h.jobs)]);
        return [...names].map((name): JobStatus => {
          const j = deps.jobs.find((x) => x.name === name);
          return {
            name,
            schedule: j ? (j.cron ? j.cron : `after ${j.dependsOn ?? '?'}`) : '(no longer scheduled)',
            last: lastRun(h, name) ?? null,
            next: j?.cron ? nextFire(j.cron, now).toISOString() : null,
            skipped: h.jobs[name]?.skipped ?? 0,
          };
        });
      })(),
    );
    // both stages' dead letters (naming.ts): the ETL's objects end in .etl.jsonl.gz
    const dlq = settle(
      countObjects(aws.s3, c.aws.bucket, `${staging}/_dlq/${topic}/`, (k) => (k.endsWith('.etl.jsonl.gz') ? 'etl' : 'consumer')).then((x) => ({
        objects: x.objects,
        truncated: x.truncated,
        consumer: x.byKind.consumer ?? 0,
        etl: x.byKind.etl ?? 0,
      })),
    );
    const alarms = settle(
      (async () => {
        const here = evaluatesAlarms(c);
        const { defs, settings } = alarmsFromConfig(c, resolveFromRoot);
        if (here) await evaluateAlarms(aws.cloudwatch, defs, settings, now);
        const all = await describeAlarms(aws.cloudwatch, c.monitoring.alarmPrefix);
        return {
          evaluatedHere: here,
          defined: all.length,
          inAlarm: all
            .filter((a) => a.StateValue === 'ALARM')
            .map((a) => ({ name: a.AlarmName ?? '?', reason: a.StateReason ?? '', since: a.StateUpdatedTimestamp?.toISOString() ?? null })),
        };
      })(),
    );
    const r: StatusReport = {
      at: now.toISOString(),
      mode: c.mode,
      bucket: c.aws.bucket,
      topic,
      healthy: false,
      problems: [],
      daemons: await daemons,
      cluster: await cluster,
      rates: await rates,
      lag: await lag,
      freshness: await freshness,
      jobs: await jobs,
      dlq: await dlq,
      alarms: await alarms,
    };
    r.problems = problemsOf(r);
    r.healthy = r.problems.length === 0;
    return r;
  } finally {
    aws.destroy();
  }
}

async function bookmarkTime(s3: S3Client, bucket: string, job: string): Promise<{ readBookmarkTime: string | null }> {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `_state/${job}.json`, MaxKeys: 1 }));
  const o = r.Contents?.find((x) => x.Key === `_state/${job}.json`);
  return { readBookmarkTime: o?.LastModified?.toISOString() ?? null };
}

/** The lines of what is wrong, empty when every stage is healthy. */
export function problemsOf(r: StatusReport): string[] {
  const p: string[] = [];
  for (const [name, s] of Object.entries({ daemons: r.daemons, cluster: r.cluster, rates: r.rates, lag: r.lag, freshness: r.freshness, jobs: r.jobs, dlq: r.dlq, alarms: r.alarms })) {
    if (!s.ok) p.push(`${name}: ${s.error}`);
  }
  if (r.daemons.ok) for (const d of r.daemons.value) if (d.state === 'down') p.push(`${d.daemon} is down (${d.heartbeatAgeS === null ? 'no heartbeat' : `last heartbeat ${d.heartbeatAgeS} s ago`})`);
  if (r.cluster.ok) p.push(...clusterProblems(r.cluster.value));
  if (r.jobs.ok) for (const j of r.jobs.value) if (j.last && j.last.outcome !== 'succeeded' && j.last.outcome !== 'stopped') p.push(`job ${j.name}: last run ${j.last.outcome}${j.last.error ? `: ${j.last.error}` : ''}`);
  if (r.alarms.ok) for (const a of r.alarms.value.inAlarm) p.push(`alarm ${a.name} in ALARM`);
  return p;
}
