// The crawl and report rows of `kafkalake run`'s job table (daemons/cli/run.ts) and of the
// scheduler: each runs the job in the configured mode and returns its report and printed lines.
import type { Config } from '../config/index.js';
import { KafkalakeError } from '../errors.js';
import type { Logger } from '../log.js';
import { describeReports, reportFailures, runReports } from '../athena/reports.js';
import { describeCrawl, runCrawl } from './crawl.js';

interface Job {
  name: string;
  summary: string;
  run(config: Readonly<Config>, log: Logger, args: string[]): Promise<{ report: unknown; lines: string[] }>;
}

export const CRAWL_JOB: Job = {
  name: 'crawl',
  summary: 'catalogue the lake, staging and DLQ tables and partitions (kafkalake crawler locally, the Glue crawler in aws mode)',
  async run(config, log) {
    const report = await runCrawl(config, log);
    return { report, lines: describeCrawl(report) };
  },
};

export const REPORT_JOB: Job = {
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
