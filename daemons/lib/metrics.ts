// The one metrics module every daemon uses: counters, gauges and timings aggregated in memory per
// (metric, dimensions) and sent to CloudWatch with batched PutMetricData as statistic sets
// (namespace from config `metrics.namespace`, dimensions Daemon and Topic, plus any extra ones).
// Recording never blocks and never throws; sending runs on a timer. When CloudWatch is unreachable the
// unsent data is kept in a bounded buffer: beyond `maxPending` datums the oldest are dropped and
// counted (`dropped`), so memory does not grow with the length of the outage. close() flushes once.
// Every flush interval each daemon also records Heartbeat (the daemon-down alarm and `kafkalake status`
// read its age), MemoryRss, HeapUsed and EventLoopDelay (p99 of the interval, ms), dimension Daemon only.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type CloudWatchClient, type MetricDatum, PutMetricDataCommand, type StandardUnit } from '@aws-sdk/client-cloudwatch';
import type { Config } from './config/index.js';
import { oneLine } from './errors.js';
import type { Logger } from './log.js';

export type Unit = Extract<StandardUnit, 'Count' | 'Bytes' | 'Milliseconds' | 'Seconds' | 'None' | 'Count/Second' | 'Bytes/Second'>;

export interface Dimensions {
  /** the Topic dimension; omitted when the metric is not about one topic */
  topic?: string;
  /** more dimensions, e.g. { Partition: '3' } */
  extra?: Record<string, string>;
}

export interface Metrics {
  /** add to a counter (sum per interval) */
  count(name: string, value?: number, dims?: Dimensions, unit?: Unit): void;
  /** record a level (lag, buffered bytes): the interval keeps min/max/avg of the samples */
  gauge(name: string, value: number, dims?: Dimensions, unit?: Unit): void;
  /** record a duration in milliseconds */
  timing(name: string, ms: number, dims?: Dimensions): void;
  /** send what is aggregated now (the timer calls this) */
  flush(): Promise<void>;
  /** stop the timer and flush once; idempotent */
  close(): Promise<void>;
  /** for tests and status: datums sent, dropped, pending, failed sends */
  stats(): { sent: number; dropped: number; pending: number; failedSends: number };
}

export interface MetricsOptions {
  cloudwatch: CloudWatchClient;
  namespace: string;
  daemon: string;
  log: Logger;
  enabled?: boolean;
  flushIntervalMs: number;
  /** most datums kept while CloudWatch is unreachable; older ones are dropped and counted */
  maxPending?: number;
  /** record Heartbeat, memory and event-loop delay every interval (default true) */
  processGauges?: boolean;
  now?: () => Date;
}

/**
 * Every metric the daemons publish: which daemon sends it and with which dimension sets besides Daemon
 * (the call sites in consumer/, producer/, scheduler/ and the process gauges below). The dashboard's and
 * the alarms' metrics are checked against this list (test/unit/dashboard.test.ts), and record() warns once
 * about a metric published outside it, so a renamed metric or dimension cannot leave a widget empty silently.
 */
export const PUBLISHED_METRICS: Readonly<Record<string, { daemons: readonly string[]; dimensions: readonly (readonly string[])[] }>> = {
  RecordsIn: { daemons: ['consumer'], dimensions: [['Topic']] },
  BytesIn: { daemons: ['consumer'], dimensions: [['Topic']] },
  RecordsStaged: { daemons: ['consumer'], dimensions: [['Topic']] },
  BytesStaged: { daemons: ['consumer'], dimensions: [['Topic']] },
  ObjectsWritten: { daemons: ['consumer'], dimensions: [['Topic'], ['Topic', 'Kind']] },
  PutLatency: { daemons: ['consumer'], dimensions: [['Topic']] },
  // send → staged: each staged object's oldest record (kafkalake console draws it)
  StagedLatency: { daemons: ['consumer'], dimensions: [['Topic']] },
  DlqRecords: { daemons: ['consumer'], dimensions: [['Topic']] },
  ConsumerLag: { daemons: ['consumer'], dimensions: [['Topic', 'Partition']] },
  RecordsSent: { daemons: ['producer'], dimensions: [['Topic']] },
  BytesSent: { daemons: ['producer'], dimensions: [['Topic']] },
  RecordsFailed: { daemons: ['producer'], dimensions: [['Topic']] },
  ConsumerGroupLag: { daemons: ['scheduler'], dimensions: [['Topic'], ['Topic', 'Partition']] },
  // the Kafka cluster (daemons/lib/cluster-health.ts): brokers cluster-wide; partitions over every topic
  // (no Topic dimension) and over the pipeline's topic
  BrokersAlive: { daemons: ['scheduler'], dimensions: [[]] },
  BrokersExpected: { daemons: ['scheduler'], dimensions: [[]] },
  BrokersMissing: { daemons: ['scheduler'], dimensions: [[]] },
  UnderReplicatedPartitions: { daemons: ['scheduler'], dimensions: [[], ['Topic']] },
  OfflinePartitions: { daemons: ['scheduler'], dimensions: [[], ['Topic']] },
  JobDuration: { daemons: ['scheduler'], dimensions: [['Job']] },
  // send → lake: an ETL run's oldest record, from its send to the switch that made it visible (scheduler/jobs.ts)
  LakeLatency: { daemons: ['scheduler'], dimensions: [['Table']] },
  JobSuccess: { daemons: ['scheduler'], dimensions: [['Job'], ['Kind']] },
  JobFailure: { daemons: ['scheduler'], dimensions: [['Job'], ['Kind']] },
  JobStopped: { daemons: ['scheduler'], dimensions: [['Job'], ['Kind']] },
  JobSkipped: { daemons: ['scheduler'], dimensions: [['Job']] },
  JobNotReady: { daemons: ['scheduler'], dimensions: [['Job']] },
  Heartbeat: { daemons: ['producer', 'consumer', 'scheduler'], dimensions: [[]] },
  MemoryRss: { daemons: ['producer', 'consumer', 'scheduler'], dimensions: [[]] },
  HeapUsed: { daemons: ['producer', 'consumer', 'scheduler'], dimensions: [[]] },
  EventLoopDelay: { daemons: ['producer', 'consumer', 'scheduler'], dimensions: [[]] },
};

/** Whether PUBLISHED_METRICS lists this metric with this daemon and exactly these other dimensions. */
export function isPublished(name: string, daemon: string, dimensionNames: readonly string[]): boolean {
  const m = PUBLISHED_METRICS[name];
  if (!m || !m.daemons.includes(daemon)) return false;
  const want = [...dimensionNames].sort().join(',');
  return m.dimensions.some((d) => [...d].sort().join(',') === want);
}

/** PutMetricData takes up to 1,000 datums per call; we send smaller calls to stay well inside its 1 MB. */
const DATUMS_PER_CALL = 150;

interface Agg {
  name: string;
  unit: Unit;
  dims: { Name: string; Value: string }[];
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** A daemon's metrics as the config's metrics.* keys set them up (every daemon's main.ts uses this). */
export function daemonMetrics(config: Readonly<Pick<Config, 'metrics'>>, cloudwatch: CloudWatchClient, daemon: string, log: Logger): Metrics {
  const m = config.metrics;
  return createMetrics({ cloudwatch, namespace: m.namespace, daemon, log, enabled: m.enabled, flushIntervalMs: m.flushIntervalMs, maxPending: m.maxPending });
}

export function createMetrics(opts: MetricsOptions): Metrics {
  const { cloudwatch, namespace, daemon, log } = opts;
  const enabled = opts.enabled ?? true;
  const maxPending = opts.maxPending ?? 5000;
  const now = opts.now ?? (() => new Date());
  let current = new Map<string, Agg>();
  let pending: MetricDatum[] = [];
  let sent = 0;
  let dropped = 0;
  let failedSends = 0;
  let sending: Promise<void> | undefined;
  let closed = false;
  let downSince: number | undefined;
  const unlisted = new Set<string>();

  const record = (name: string, value: number, dims: Dimensions | undefined, unit: Unit) => {
    if (!enabled || closed || !Number.isFinite(value)) return;
    const d = [{ Name: 'Daemon', Value: daemon }];
    if (dims?.topic) d.push({ Name: 'Topic', Value: dims.topic });
    for (const [k, v] of Object.entries(dims?.extra ?? {})) d.push({ Name: k, Value: v });
    if (!isPublished(name, daemon, d.slice(1).map((x) => x.Name)) && !unlisted.has(name)) {
      unlisted.add(name);
      log.warn('metric not in PUBLISHED_METRICS (daemons/lib/metrics.ts): dashboards and alarms may miss it', { component: 'metrics', metric: name, dimensions: d.map((x) => x.Name) });
    }
    const key = `${name}\u0000${unit}\u0000${d.map((x) => `${x.Name}=${x.Value}`).join('\u0000')}`;
    const a = current.get(key);
    if (a) {
      a.count++;
      a.sum += value;
      a.min = Math.min(a.min, value);
      a.max = Math.max(a.max, value);
    } else {
      current.set(key, { name, unit, dims: d, count: 1, sum: value, min: value, max: value });
    }
  };

  /** move the aggregates of the interval into the pending list, bounded */
  const seal = () => {
    if (current.size === 0) return;
    const ts = now();
    for (const a of current.values()) {
      pending.push({
        MetricName: a.name,
        Dimensions: a.dims,
        Timestamp: ts,
        Unit: a.unit,
        StatisticValues: { SampleCount: a.count, Sum: a.sum, Minimum: a.min, Maximum: a.max },
      });
    }
    current = new Map();
    if (pending.length > maxPending) {
      const over = pending.length - maxPending;
      pending = pending.slice(over);
      dropped += over;
      log.warn('metrics buffer full, dropping the oldest datums', { component: 'metrics', dropped: over, droppedTotal: dropped });
    }
  };

  const sendPending = async () => {
    while (pending.length > 0) {
      const chunk = pending.slice(0, DATUMS_PER_CALL);
      try {
        await cloudwatch.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: chunk }));
      } catch (err) {
        failedSends++;
        if (downSince === undefined) {
          downSince = Date.now();
          log.warn('CloudWatch unreachable, metrics kept (bounded) until it answers', { component: 'metrics', namespace, pending: pending.length, error: oneLine(err) });
        }
        return;
      }
      pending = pending.slice(chunk.length);
      sent += chunk.length;
      if (downSince !== undefined) {
        log.info('CloudWatch answers again, metrics sent', { component: 'metrics', downMs: Date.now() - downSince });
        downSince = undefined;
      }
    }
  };

  const flush = async () => {
    seal();
    if (!enabled) return;
    // one send at a time; a flush while one runs waits for it and then sends what is left
    while (sending) await sending;
    sending = sendPending().finally(() => {
      sending = undefined;
    });
    await sending;
  };

  const loop = enabled && (opts.processGauges ?? true) ? monitorEventLoopDelay({ resolution: 20 }) : undefined;
  loop?.enable();
  const sampleProcess = () => {
    if (!loop) return;
    const mem = process.memoryUsage();
    record('Heartbeat', 1, undefined, 'Count');
    record('MemoryRss', mem.rss, undefined, 'Bytes');
    record('HeapUsed', mem.heapUsed, undefined, 'Bytes');
    if (loop.count > 0) record('EventLoopDelay', loop.percentile(99) / 1e6, undefined, 'Milliseconds');
    loop.reset();
  };
  sampleProcess();

  const timer = setInterval(() => {
    sampleProcess();
    // a send still hanging (CloudWatch slow or unreachable): only seal, so waiting flushes never pile up
    if (sending) seal();
    else void flush();
  }, opts.flushIntervalMs);
  timer.unref();

  let closing: Promise<void> | undefined;
  return {
    count: (name, value = 1, dims, unit = 'Count') => record(name, value, dims, unit),
    gauge: (name, value, dims, unit = 'Count') => record(name, value, dims, unit),
    timing: (name, ms, dims) => record(name, ms, dims, 'Milliseconds'),
    flush,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        loop?.disable();
        await flush();
        closed = true;
        if (pending.length > 0) {
          log.warn('metrics not sent at close', { component: 'metrics', datums: pending.length });
          dropped += pending.length;
          pending = [];
        }
      })();
      return closing;
    },
    stats: () => ({ sent, dropped, pending: pending.length + current.size, failedSends }),
  };
}
