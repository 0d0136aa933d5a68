// The scheduler's jobs: adapters from the `kafkalake run` table (daemons/jobs/table.ts: etl, crawl,
// report NAME) to the scheduler's Job shape, so the daemon runs exactly what `kafkalake run` runs, in
// the configured mode. The saved reports come from sql/reports/*.sql, each with its own schedule.
import type { Config } from '../lib/config/index.js';
import type { Logger } from '../lib/log.js';
import type { Metrics } from '../lib/metrics.js';
import { type EtlReport, lakeLatencies } from '../jobs/etl.js';
import type { RunJob } from '../jobs/table.js';
import type { Job, JobResult } from './job.js';
import type { ReportFile } from './report-files.js';

export interface JobsDeps {
  config: Readonly<Config>;
  log: Logger;
  /** the `kafkalake run` table */
  runJobs: readonly RunJob[];
  reports: ReportFile[];
  /** how a run is done; default in this process. The daemon runs each in a worker process (worker.ts). */
  runner?: JobRunner;
  /** where an ETL run's send → lake latency goes (LakeLatency per Table) */
  metrics?: Pick<Metrics, 'timing'>;
}

/** Runs one job of the table with its arguments; stops it when the signal fires (if it can). */
export type JobRunner = (job: RunJob, args: string[], signal: AbortSignal) => Promise<{ report: unknown; lines: string[] }>;

/**
 * Whether the crawl should follow an ETL run: it created lake partitions (local: per table; Glue: a
 * succeeded run may have). Appends and rewrites of existing partitions need no crawl: the ETL switches
 * their catalog locations itself (protocol v3), and the staging and DLQ tables are found by partition
 * projection (Athena's, and the local engine's).
 */
export function etlChanged(report: unknown): boolean {
  const r = report as { mode?: string; state?: string; tables?: { created?: unknown[] }[] } | null;
  if (r?.mode === 'aws') return r.state === 'SUCCEEDED';
  return (r?.tables ?? []).some((t) => (t.created?.length ?? 0) > 0);
}

/** A run's lines as one of at most 500 characters; the last (the run's total) is kept whole. */
export function summaryOf(lines: string[], max = 500): string {
  const all = lines.join('; ');
  if (all.length <= max) return all;
  const last = lines.at(-1) ?? '';
  return last.length + 4 > max ? all.slice(0, max) : `${all.slice(0, max - last.length - 3)}…; ${last}`;
}

function adapter(runJob: RunJob, deps: JobsDeps, args: string[], changed: (report: unknown) => boolean, observe?: (report: unknown) => void) {
  const runner: JobRunner = deps.runner ?? ((j, a) => j.run(deps.config, deps.log, a));
  return async (signal: AbortSignal): Promise<JobResult> => {
    const { report, lines } = await runner(runJob, args, signal);
    observe?.(report);
    return { changed: changed(report), summary: summaryOf(lines) };
  };
}

/** An ETL run's send → lake latency per table, as the LakeLatency metric (kafkalake console draws it). */
function observeEtl(deps: JobsDeps) {
  return (report: unknown) => {
    for (const l of lakeLatencies(report as EtlReport)) deps.metrics?.timing('LakeLatency', l.ms, { extra: { Table: l.table } });
  };
}

/**
 * How much longer the scheduler waits than a job's own runner: the runner's timeout (etl.timeoutMs,
 * crawl.timeoutMs, reports.timeoutMs) fires first and stops the work where it runs (BatchStopJobRun,
 * StopCrawler, StopQueryExecution) and releases the ETL lock; the scheduler's abort is the last resort.
 */
export const RUNNER_STOP_MARGIN_MS = 60_000;

/** The jobs of the table that exist; a missing one is logged and left out. */
export function buildJobs(deps: JobsDeps): Job[] {
  const { config, log } = deps;
  const find = (name: string) => deps.runJobs.find((j) => j.name === name);
  const jobs: Job[] = [];
  const etl = find('etl');
  // the ETL and the compaction write the lake under one lock: in one group they run one after the other
  // instead of one failing on the lock the other holds
  // a run longer than the interval is followed at once by the next (misfire runOnce), not an interval later:
  // under load the lake trails by one run, not one run and an interval
  if (etl) jobs.push({ name: 'etl', kind: 'etl', cron: config.etl.cron, group: 'lake', misfire: 'runOnce', timeoutMs: config.etl.timeoutMs + RUNNER_STOP_MARGIN_MS, run: adapter(etl, deps, [], etlChanged, observeEtl(deps)) });
  else log.warn('no etl job in the run table: not scheduled');
  const compact = find('compact');
  if (compact && config.compact.cron) {
    jobs.push({
      name: 'compact',
      kind: 'compact',
      cron: config.compact.cron,
      group: 'lake',
      ...(etl ? { dependsOn: 'etl', yieldsToFailedDependency: true } : {}),
      timeoutMs: config.etl.timeoutMs + RUNNER_STOP_MARGIN_MS,
      run: adapter(compact, deps, [], () => false),
    });
  } else if (!compact) log.warn('no compact job in the run table: not scheduled');
  const crawl = find('crawl');
  if (crawl) {
    jobs.push({
      name: 'crawl',
      kind: 'crawl',
      cron: config.crawl.cron,
      ...(etl ? { dependsOn: 'etl' } : {}),
      timeoutMs: config.crawl.timeoutMs + RUNNER_STOP_MARGIN_MS,
      run: adapter(crawl, deps, [], () => true),
    });
  } else log.warn('no crawl job in the run table: not scheduled');
  const report = find('report');
  for (const r of deps.reports) {
    if (!report) {
      log.warn('no report job in the run table: reports not scheduled', { reports: deps.reports.map((x) => x.name) });
      break;
    }
    const cron = config.reports.cron || r.schedule;
    if (!cron) {
      log.warn('report has no schedule (header `-- schedule:` or reports.cron): not scheduled', { report: r.name, file: r.file });
      continue;
    }
    jobs.push({
      name: `report-${r.name}`,
      kind: 'report',
      cron,
      group: 'reports',
      // a report waits for a running ETL run (whose catalog switch makes its rows visible), not for the
      // crawl, which no lake read needs since protocol v3
      ...(etl ? { dependsOn: 'etl' } : crawl ? { dependsOn: 'crawl' } : {}),
      timeoutMs: config.reports.timeoutMs + RUNNER_STOP_MARGIN_MS,
      run: adapter(report, deps, [r.name], () => false),
    });
  }
  return jobs;
}
