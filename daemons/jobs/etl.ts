// `kafkalake run etl` and the scheduler's ETL job: the configured mode decides who executes the specs
// (DuckDB here, or AWS Glue); the bucket, bookmark and lock are the same in both.
import { createAwsClients } from '../lib/aws.js';
import type { Config } from '../lib/config/index.js';
import { KafkalakeError } from '../lib/errors.js';
import { createGlueRunner, type GlueRunReport } from '../lib/etl/glue-runner.js';
import { lakePointer } from '../lib/etl/lake-table.js';
import { loadSpecs } from '../lib/etl/spec.js';
import { describeStoreCalls, s3Store } from '../lib/etl/store.js';
import type { Logger } from '../lib/log.js';
import { resolveFromRoot } from '../lib/paths.js';
import { type CompactRunReport, createLocalEtl, type EtlRunReport, type TableRunStats } from '../local/etl/executor.js';

export type EtlReport = EtlRunReport | GlueRunReport;

export const lockTtl = (c: Pick<Config, 'etl'>) => c.etl.lockTtlMs || c.etl.timeoutMs + 300_000;

/**
 * The ETL job's two executors over one bucket: the Glue job (aws mode; `action` etl or compact) and the
 * local DuckDB executor. Both share the bookmark, the lock and the lake's manifests.
 */
async function withExecutor<T>(
  config: Readonly<Config>,
  log: Logger,
  work: (x: { glue: (action: 'etl' | 'compact') => ReturnType<typeof createGlueRunner>; local: ReturnType<typeof createLocalEtl> }) => Promise<T>,
): Promise<T> {
  if (!config.aws.bucket) throw new KafkalakeError('aws.bucket is empty in the config: the ETL needs the bucket of staging and the lake', { where: 'config aws.bucket' });
  const specs = loadSpecs(resolveFromRoot(config.etl.specDir));
  const aws = createAwsClients(config);
  const store = s3Store(aws.s3, config.aws.bucket);
  const elog = log.child({ component: 'etl', job: config.etl.jobName });
  try {
    return await work({
      glue: (action) =>
        createGlueRunner({
          glue: aws.glue,
          store,
          specs,
          job: config.etl.jobName,
          log: elog,
          timeoutMs: config.etl.timeoutMs,
          glueTimeoutMinutes: config.etl.glueTimeoutMinutes,
          pollIntervalMs: config.etl.pollIntervalMs,
          lockTtlMs: lockTtl(config),
          database: config.crawl.database,
          retainMinutes: config.etl.retainMinutes,
          ...(action === 'compact' ? { compact: { maxFiles: config.compact.maxFiles } } : {}),
        }),
      local: createLocalEtl({
        store,
        specs,
        job: config.etl.jobName,
        log: elog,
        memoryMb: config.etl.memoryMb,
        threads: config.etl.threads,
        lockTtlMs: lockTtl(config),
        retainMinutes: config.etl.retainMinutes,
        pointerFor: (spec) => lakePointer(aws.glue, config, spec),
        ...(config.etl.workDir ? { workDir: resolveFromRoot(config.etl.workDir) } : {}),
      }),
    });
  } finally {
    aws.destroy();
  }
}

export function runEtl(config: Readonly<Config>, log: Logger): Promise<EtlReport> {
  return withExecutor<EtlReport>(config, log, (x) => (config.mode === 'aws' ? x.glue('etl').run() : x.local.run()));
}

export type CompactReport = CompactRunReport | GlueRunReport;

/** `kafkalake run compact`: the same Glue job with --kafkalake_action compact in aws mode, DuckDB locally. */
export function runCompact(config: Readonly<Config>, log: Logger): Promise<CompactReport> {
  return withExecutor<CompactReport>(config, log, (x) => (config.mode === 'aws' ? x.glue('compact').run() : x.local.compact(config.compact.maxFiles)));
}

/**
 * Send → lake of each table a run wrote: from the send time of the oldest record it put into the lake
 * to the switch that made its rows visible (the worst of the run). Both executors report the two times
 * (a Glue run in its last-run file); a table the run did not write, or a run without figures, has none.
 */
export function lakeLatencies(r: EtlReport): Array<{ table: string; ms: number }> {
  const out: Array<{ table: string; ms: number }> = [];
  for (const t of r.tables ?? []) {
    if (t.oldestSentAtMs === null || t.committedAtMs === null) continue;
    out.push({ table: t.table, ms: Math.max(0, t.committedAtMs - t.oldestSentAtMs) });
  }
  return out;
}

/** The lines `kafkalake run compact` prints. */
export function describeCompact(r: CompactReport): string[] {
  if (r.mode === 'aws') return describeEtl(r).map((l) => l.replace(/^etl:/, 'compact:'));
  const lines = r.tables.map((t) =>
    t.partitions.length === 0
      ? `compact ${t.table}: no partition has too many or too small files${t.retiredDeleted ? ` (${t.retiredDeleted} retired files deleted)` : ''}`
      : `compact ${t.table}: ${t.partitions.length} partitions compacted (${t.filesRead} files read, ${t.filesCopied} copied, ${t.filesWritten} written, ${t.rowsWritten} rows)${t.retiredDeleted ? `; ${t.retiredDeleted} retired files deleted` : ''}`,
  );
  return [...lines, `compact: done in ${(r.durationMs / 1000).toFixed(1)} s (${describeStoreCalls(r.store)})`];
}

/** "; fetch 0.3 s, read 1.1 s, type 2.0 s, lake 3.2 s": where a table's run went, step by step. */
export function describePhases(p: TableRunStats['phasesMs']): string {
  const parts = (['fetch', 'read', 'type', 'dlq', 'lake'] as const).filter((k) => p[k] !== undefined).map((k) => `${k} ${((p[k] ?? 0) / 1000).toFixed(1)} s`);
  return parts.length ? `; ${parts.join(', ')}` : '';
}

/** The lines `kafkalake run etl` prints. */
export function describeEtl(r: EtlReport): string[] {
  if (r.mode === 'aws') {
    return [`etl: Glue job ${r.job} run ${r.runId} ${r.state} in ${(r.durationMs / 1000).toFixed(1)} s (execution ${r.executionTimeS ?? '?'} s, ${r.dpuSeconds ?? '?'} DPU-seconds)`];
  }
  const lines = r.tables.map((t) =>
    t.objects === 0
      ? `etl ${t.table}: nothing new to merge${t.retiredDeleted ? ` (${t.retiredDeleted} retired files deleted)` : ''}`
      : `etl ${t.table}: ${t.objects} staging objects, ${t.rowsRead} rows read, ${t.rowsRejected} rejected${t.dlqObjects.length ? ` (DLQ: ${t.dlqObjects.length} objects)` : ''}; ` +
        `${t.partitions.length} partitions: ${t.appended.length} appended, ${t.rewritten.length} rewritten (${t.files} files, ${t.rowsWritten} rows written; ${t.filesRead} files read, ${t.filesCopied} copied${t.filesProbed ? `; the keys of ${t.filesProbed} files probed` : ''})` +
        (t.retiredDeleted ? `; ${t.retiredDeleted} retired files deleted` : '') +
        describePhases(t.phasesMs),
  );
  return [...lines, `etl: done in ${(r.durationMs / 1000).toFixed(1)} s (${describeStoreCalls(r.store)})`];
}

