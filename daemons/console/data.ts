// What `kafkalake console` shows, gathered from the sources `kafkalake status` reads, in either mode:
// the status report itself, the last hour of the pipeline's CloudWatch metrics (the twin's locally),
// the scheduler's job history, the dead letters and the saved reports' files. Read-only: nothing here
// writes, replays or starts anything.
import type { MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { type DlqObject, listDlq, readDlq } from '../consumer/dlq.js';
import { gatherStatus, metricSeries, type StatusReport } from '../cli/status-report.js';
import { listReports, readReport, type ReportFile, type ReportSummary } from '../lib/athena/report-store.js';
import { loadSavedQueries } from '../lib/athena/saved.js';
import { createAwsClients } from '../lib/aws.js';
import { oneLine } from '../lib/errors.js';
import { bucketOf } from '../lib/catalog/objects.js';
import type { Config } from '../lib/config/index.js';
import { loadSpecs } from '../lib/etl/spec.js';
import type { Logger } from '../lib/log.js';
import { resolveFromRoot } from '../lib/paths.js';
import { s3History } from '../scheduler/history.js';
import type { RunRecord } from '../scheduler/job.js';

export interface Series {
  name: string;
  unit: string;
  points: Array<{ t: string; v: number }>;
}

export interface SeriesReport {
  from: string;
  to: string;
  periodS: number;
  /** records in, staged and dead-lettered per second; lag per partition; send → staged and send → lake, seconds */
  rates: Series[];
  lag: Series[];
  freshness: Series[];
}

export interface ConsoleDeps {
  config: Readonly<Config>;
  log: Logger;
  /** the scheduler's jobs (name and schedule), as `status` builds them */
  jobs: { name: string; cron: string; dependsOn?: string }[];
  now?: () => Date;
}

export function consoleData(deps: ConsoleDeps) {
  const c = deps.config;
  const aws = createAwsClients(c);
  const now = deps.now ?? (() => new Date());
  const ns = c.metrics.namespace;
  const topic = c.kafka.topic;
  const dlqDeps = { s3: aws.s3, bucket: c.aws.bucket, prefix: c.consumer.stagingPrefix.replace(/\/$/, '') };
  const bucket = bucketOf(aws.s3, c.aws.bucket);
  const known = () => loadSavedQueries(resolveFromRoot(c.reports.dir)).map((q) => q.name);

  const stat = (id: string, name: string, dims: Record<string, string>, s: string, periodS: number): MetricDataQuery => ({
    Id: id,
    MetricStat: { Metric: { Namespace: ns, MetricName: name, Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })) }, Period: periodS, Stat: s },
  });

  /** The lake's tables (the ETL specs): one send → lake series each. A spec that does not load is left to `status` to name. */
  const tables = (): string[] => {
    try {
      return loadSpecs(resolveFromRoot(c.etl.specDir)).map((s) => s.table);
    } catch {
      return [];
    }
  };

  /** The last hour: the consumer's records per second and send → staged latency, the scheduler's lag per partition and send → lake latency. */
  async function series(partitionList?: number[], minutes = 60): Promise<SeriesReport> {
    const to = now();
    const from = new Date(to.getTime() - minutes * 60_000);
    const periodS = 60;
    const consumer = { Daemon: 'consumer', Topic: topic };
    // the partitions the page knows from the status' lag (Kafka's own answer); before that, the config's
    // count (no ListMetrics: the hosts' policy grants GetMetricData only)
    const lakeTables = tables();
    const partitions = (partitionList ?? Array.from({ length: c.kafka.partitions }, (_, i) => i)).map(String);
    const rates = [
      ['in', 'RecordsIn', 'records in'],
      ['st', 'RecordsStaged', 'records staged'],
      ['dl', 'DlqRecords', 'records dead-lettered'],
    ] as const;
    const q = [
      ...rates.map(([id, metric]) => stat(id, metric, consumer, 'Sum', periodS)),
      ...partitions.map((p, i) => stat(`p${i}`, 'ConsumerGroupLag', { Daemon: 'scheduler', Topic: topic, Partition: p }, 'Maximum', periodS)),
      stat('fs', 'StagedLatency', consumer, 'Maximum', periodS),
      ...lakeTables.map((table, i) => stat(`fl${i}`, 'LakeLatency', { Daemon: 'scheduler', Table: table }, 'Maximum', periodS)),
    ];
    const s = await metricSeries(aws.cloudwatch, q, from, to);
    const points = (id: string, scale = 1) => (s.get(id) ?? []).map((x) => ({ t: x.t.toISOString(), v: Math.round((x.v / scale) * 10) / 10 })).sort((a, b) => a.t.localeCompare(b.t));
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      periodS,
      rates: rates.map(([id, , name]) => ({ name, unit: 'records/s', points: points(id, periodS) })),
      lag: partitions.map((p, i) => ({ name: `partition ${p}`, unit: 'records', points: points(`p${i}`) })),
      // the oldest record of each staged object, and of each ETL run's new rows: the worst of the period
      freshness: [
        { name: 'send → staged (max)', unit: 's', points: points('fs', 1000) },
        ...lakeTables.map((table, i) => ({ name: lakeTables.length > 1 ? `send → lake, ${table} (max)` : 'send → lake (max)', unit: 's', points: points(`fl${i}`, 1000) })),
      ],
    };
  }

  /** Every job's kept runs, newest first. */
  async function jobs(): Promise<Array<{ name: string; skipped: number; runs: RunRecord[] }>> {
    const h = await s3History(aws.s3, c.aws.bucket).load();
    const names = [...new Set([...deps.jobs.map((j) => j.name), ...Object.keys(h.jobs)])];
    return names.map((name) => ({ name, skipped: h.jobs[name]?.skipped ?? 0, runs: h.jobs[name]?.runs ?? [] }));
  }

  /**
   * The dead letters: every object (newest first), and the records of the newest `read` objects counted
   * by stage and reason (older objects are listed, not opened: the page stays quick on a long DLQ).
   */
  async function dlq(read = 50): Promise<{ objects: DlqObject[]; reasons: Array<{ stage: string; reason: string; count: number }>; objectsRead: number }> {
    const objects = (await listDlq(dlqDeps, topic)).sort((a, b) => b.dt.localeCompare(a.dt) || b.key.localeCompare(a.key));
    const counts = new Map<string, { stage: string; reason: string; count: number }>();
    const newest = objects.slice(0, read);
    const tally = (stage: string, reason: string) => {
      const k = `${stage}\u0000${reason}`;
      const e = counts.get(k) ?? { stage, reason, count: 0 };
      e.count++;
      counts.set(k, e);
    };
    const read_ = await Promise.allSettled(newest.map((o) => readDlq(dlqDeps, o.key)));
    read_.forEach((r, i) => {
      if (r.status === 'fulfilled') for (const l of r.value) tally(l.stage, l.reason);
      else tally(newest[i]!.stage, `(an object that cannot be read: ${oneLine(r.reason)})`); // shown as such, not dropped
    });
    return { objects, reasons: [...counts.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)), objectsRead: newest.length };
  }

  return {
    status: (): Promise<StatusReport> => gatherStatus({ config: c, log: deps.log, jobs: deps.jobs, now }),
    series,
    jobs,
    dlq,
    dlqShow: (key: string) => readDlq(dlqDeps, key),
    reports: (): Promise<ReportSummary[]> => listReports(bucket, c.reports.prefix, known()),
    report: async (name: string, date?: string): Promise<ReportFile> => readReport(bucket, c.reports.prefix, await listReports(bucket, c.reports.prefix, known()), name, date),
    close: () => aws.destroy(),
  };
}

export type ConsoleData = ReturnType<typeof consoleData>;
