// The job table: the jobs `kafkalake run <job>` runs (daemons/cli/run.ts) and the scheduler schedules
// (daemons/scheduler/jobs.ts). Each row runs its job in the configured mode and returns its report and
// printed lines; add a row to add a job.
import type { Config } from '../lib/config/index.js';
import { KafkalakeError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { describeCrawl, runCrawl } from './crawl.js';
import { describeCompact, describeEtl, runCompact, runEtl } from './etl.js';
import { describeReports, reportFailures, runReports } from './report.js';

export interface RunJob {
  name: string;
  summary: string;
  /** runs the job; returns the report (printed with --json) and the lines printed otherwise */
  run(config: Readonly<Config>, log: Logger, args: string[]): Promise<{ report: unknown; lines: string[] }>;
}

export const CRAWL_JOB: RunJob = {
  name: 'crawl',
  summary: 'catalogue the lake, staging and DLQ tables and partitions (kafkalake crawler locally, the Glue crawler in aws mode)',
  async run(config, log) {
    const report = await runCrawl(config, log);
    return { report, lines: describeCrawl(report) };
  },
};

export const REPORT_JOB: RunJob = {
  name: 'report',
  summary: 'report NAME|all: run saved queries (sql/reports) and write reports/<name>/<date>.csv',
  async run(config, log, args) {
    const which = args[0];
    if (!which) throw new KafkalakeError('which report? kafkalake run report NAME|all', { where: 'command line' });
    const runs = await runReports(config, log, which);
    const failed = reportFailures(runs);
    // retriable when every failure was (a twin or Athena briefly unreachable): the scheduler then retries
    // the job instead of leaving the report failed until its next schedule
    if (failed) throw new KafkalakeError(failed, { where: `reports ${which}`, retriable: runs.filter((r) => !r.ok).every((r) => r.retriable === true) });
    return { report: runs, lines: describeReports(runs) };
  },
};

export const RUN_JOBS: RunJob[] = [
  {
    name: 'etl',
    summary: 'merge new staging objects into the Parquet lake (DuckDB locally, AWS Glue in aws mode)',
    async run(config, log) {
      const report = await runEtl(config, log);
      return { report, lines: describeEtl(report) };
    },
  },
  {
    name: 'compact',
    summary: 'merge the small files of the lake’s partitions into files of the spec’s size, as new generations readers switch to at once',
    async run(config, log) {
      const report = await runCompact(config, log);
      return { report, lines: describeCompact(report) };
    },
  },
  CRAWL_JOB,
  REPORT_JOB,
];
