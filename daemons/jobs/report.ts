// `kafkalake run report NAME|all` and the scheduler's report jobs: the saved queries picked by name, run
// through the mode's engine (query.ts) by the report writer (lib/athena/reports.ts).
import { createReporter, type ReportRun, selectQueries } from '../lib/athena/reports.js';
import { loadSavedQueries } from '../lib/athena/saved.js';
import { createAwsClients } from '../lib/aws.js';
import { bucketOf } from '../lib/catalog/objects.js';
import type { Config } from '../lib/config/index.js';
import type { Logger } from '../lib/log.js';
import { resolveFromRoot } from '../lib/paths.js';
import { createQueryEngine } from './query.js';

export async function runReports(config: Readonly<Config>, log: Logger, which: string): Promise<ReportRun[]> {
  const dir = resolveFromRoot(config.reports.dir);
  const queries = selectQueries(loadSavedQueries(dir), which, dir);
  const engine = createQueryEngine(config, log);
  const aws = createAwsClients(config);
  try {
    const reporter = createReporter({ engine, bucket: bucketOf(aws.s3, config.aws.bucket), prefix: config.reports.prefix, keep: config.reports.keep, log: log.child({ component: 'reports' }) });
    const runs: ReportRun[] = [];
    for (const q of queries) runs.push(await reporter.runOne(q));
    return runs;
  } finally {
    engine.close();
    aws.destroy();
  }
}

export function describeReports(runs: ReportRun[]): string[] {
  return runs.map((r) => (r.ok ? `report ${r.name}: ${r.rows} rows → ${r.report} (query ${r.queryId}, ${(r.durationMs / 1000).toFixed(1)} s)` : `report ${r.name}: FAILED: ${r.error}`));
}

/** One line naming every failed report, or undefined when all ran. */
export function reportFailures(runs: ReportRun[]): string | undefined {
  const failed = runs.filter((r) => !r.ok);
  if (!failed.length) return undefined;
  return `${failed.length} of ${runs.length} reports failed: ${failed.map((r) => `${r.name}: ${r.error}`).join('; ')}`;
}
