// The report writer: run a saved query through a query engine (the caller's: daemons/jobs/report.ts
// passes the mode's), write its result for people as reports/<name>/<YYYY-MM-DD>.csv (UTC date of the
// run; a second run the same day replaces it), keep the newest reports.keep files per report.
import { isRetriable, KafkalakeError, oneLine } from '../errors.js';
import type { Logger } from '../log.js';
import type { Bucket } from '../catalog/objects.js';
import { type QueryEngine, resultCsv } from './result.js';
import type { SavedQuery } from './saved.js';

export interface ReportRun {
  name: string;
  ok: boolean;
  rows?: number;
  /** s3://bucket/reports/<name>/<date>.csv */
  report?: string;
  queryId?: string;
  outputLocation?: string;
  durationMs: number;
  pruned?: number;
  error?: string;
  /** the failure is worth retrying (throttling, a 5xx, a service unreachable): the scheduler retries it */
  retriable?: boolean;
}

export interface ReportDeps {
  engine: QueryEngine;
  bucket: Bucket;
  prefix: string;
  keep: number;
  log: Logger;
  now?: () => Date;
}

export function createReporter(deps: ReportDeps) {
  const now = deps.now ?? (() => new Date());

  async function prune(name: string): Promise<number> {
    const keys = (await deps.bucket.list(`${deps.prefix}${name}/`)).map((o) => o.key).filter((k) => /\/\d{4}-\d{2}-\d{2}\.csv$/.test(k));
    keys.sort();
    const old = keys.slice(0, Math.max(0, keys.length - deps.keep));
    if (old.length) await deps.bucket.deleteKeys(old);
    return old.length;
  }

  async function runOne(q: SavedQuery): Promise<ReportRun> {
    const t0 = Date.now();
    try {
      const r = await deps.engine.query(q.sql, `report ${q.name}`);
      const key = `${deps.prefix}${q.name}/${now().toISOString().slice(0, 10)}.csv`;
      await deps.bucket.put(key, resultCsv(r), 'text/csv');
      const pruned = await prune(q.name);
      deps.log.info('report written', { report: q.name, rows: r.rows.length, key, queryId: r.queryId, pruned });
      return { name: q.name, ok: true, rows: r.rows.length, report: deps.bucket.uri(key), queryId: r.queryId, outputLocation: r.outputLocation, durationMs: Date.now() - t0, pruned };
    } catch (err) {
      // returned, not logged: the caller says it once (kafkalake run: one line; the scheduler: its run log)
      return { name: q.name, ok: false, durationMs: Date.now() - t0, error: oneLine(err), retriable: isRetriable(err) };
    }
  }

  return { runOne };
}

/** Pick the saved queries: "all", or one name (an unknown name lists the known ones). */
export function selectQueries(all: SavedQuery[], which: string, dir: string): SavedQuery[] {
  if (which === 'all') return all;
  const q = all.find((s) => s.name === which);
  if (!q) throw new KafkalakeError(`no saved query "${which}"; known: ${all.map((s) => s.name).join(', ')}, all`, { where: dir });
  return [q];
}
