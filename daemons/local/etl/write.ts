// The DuckDB executor's write path, protocol v3 (glue/README.md): per partition the batch touches,
// append its rows as new files when no current file holds one of its keys (the manifest's key ranges
// name the candidates, whose key columns are then read), else copy-on-write a new generation (the
// matched files read and merged, the others copied) and switch the pointer to it; then the manifest. Retired generations are deleted once etl.retainMinutes have passed.
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { pool } from '../../lib/catalog/objects.js';
import { KafkalakeError } from '../../lib/errors.js';
import {
  generationLocation,
  generationOf,
  keyColumns,
  manifestValues,
  locationFiles,
  type ManifestFile,
  nextGeneration,
  partFileName,
  partitionFolder,
  readManifest,
  readRetired,
  runId,
  reconcile,
  type RetiredGeneration,
  sameValues,
  writeManifest,
  writeRetired,
} from '../../lib/etl/lake.js';
import type { Logger } from '../../lib/log.js';
import type { PartitionPointer } from '../../lib/etl/pointer.js';
import type { TableSpec } from '../../lib/etl/spec.js';
import type { ObjectStore } from '../../lib/etl/store.js';
import { batchPartitionsSql, fileSql, fileStatsSql, ident, lit, matchSql, numberedSql, partitionWhere, rewriteSql, typedLiteral } from './sql.js';

export interface WriteStats {
  /** partitions whose new rows were appended as new files */
  appended: string[];
  /** partitions copied-on-write into a new generation */
  rewritten: string[];
  /** partitions that did not exist before this run (of appended and rewritten) */
  created: string[];
  filesWritten: number;
  rowsWritten: number;
  /** current files rewritten because they hold a key of the batch (or were unknown) */
  filesRead: number;
  /** current files whose key columns were read because their ranges may hold a key of the batch */
  filesProbed: number;
  filesCopied: number;
}

export interface LakeWriteDeps {
  conn: DuckDBConnection;
  store: ObjectStore;
  spec: TableSpec;
  pointer: PartitionPointer;
  /** the run id of this batch (runId over its staging keys) */
  run: string;
  /** a fresh directory for this table's local files */
  dir: string;
  retainMs: number;
  now: () => Date;
  concurrency: number;
  log: Logger;
}

async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS();
}

/** A key column's min or max from DuckDB (already text for dates and timestamps) as the manifest keeps it. */
function jsonValue(v: unknown): string | number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' || typeof v === 'string') return v;
  throw new KafkalakeError(`a key column's range came back as ${typeof v}`, { where: 'the ETL manifest' });
}
const label = (spec: TableSpec, values: Record<string, string>) => spec.partitionBy.map((p) => `${p}=${values[p]}`).join('/') || '(table)';

/** Delete the retired generations whose time is up (never a partition's current location). */
export async function expireRetired(d: Pick<LakeWriteDeps, 'store' | 'spec' | 'pointer' | 'retainMs' | 'now' | 'log'>): Promise<number> {
  const retired = await readRetired(d.store, d.spec);
  const due = retired.filter((r) => Date.parse(r.retiredAt) + d.retainMs <= d.now().getTime());
  if (due.length === 0) return 0;
  let deleted = 0;
  for (const r of due) {
    const current = await d.pointer.current(r.values, await readManifest(d.store, d.spec, r.values));
    if (current === r.location) continue; // entered by a run that crashed before its commit: still live
    const folder = partitionFolder(d.spec, r.values);
    const keys = generationOf(folder, r.location) === 0 ? r.files.map((f) => r.location + f) : (await d.store.list(r.location)).map((o) => o.key);
    for (const k of keys) await d.store.delete(k);
    deleted += keys.length;
  }
  await writeRetired(d.store, d.spec, retired.filter((r) => !due.includes(r)));
  d.log.info('retired generations deleted', { generations: due.length, files: deleted });
  return deleted;
}

/** A file written locally, to be uploaded as `entry.name`. */
interface LocalFile {
  entry: ManifestFile;
  local: string;
}

/** Export `out` (numbered rows) as the local files of run `run`, with their manifest entries. */
async function exportFiles(d: LakeWriteDeps, run: string, tag: string): Promise<LocalFile[]> {
  const keys = keyColumns(d.spec);
  const stats = await rows(d.conn, fileStatsSql(d.spec, keys));
  const files: LocalFile[] = [];
  for (const s of stats) {
    const n = Number(s._file_no);
    const local = path.join(d.dir, `${tag}-${n}.parquet`);
    await d.conn.run(`COPY (${fileSql(d.spec, n)}) TO ${lit(local)} (FORMAT parquet, COMPRESSION snappy)`);
    const bytes = (await stat(local)).size;
    files.push({ local, entry: { name: partFileName(run, n), rows: Number(s.rows), bytes, min: keys.map((_, i) => jsonValue(s[`min${i}`])), max: keys.map((_, i) => jsonValue(s[`max${i}`])) } });
  }
  return files;
}

async function uploadFiles(d: Pick<LakeWriteDeps, 'store' | 'concurrency'>, location: string, files: LocalFile[]): Promise<ManifestFile[]> {
  await pool(files, d.concurrency, (f) => d.store.upload(location + f.entry.name, f.local));
  return files.map((f) => f.entry);
}

/** Write `out` (numbered rows) as files of run `run` into `location`; their manifest entries. */
async function writeFiles(d: LakeWriteDeps, location: string, run: string, tag: string): Promise<ManifestFile[]> {
  return await uploadFiles(d, location, await exportFiles(d, run, tag));
}

/**
 * Uploads that go on while the DuckDB connection exports the next partition's files: at most `limit` at
 * once; the first failure is thrown by the next add() or by drain(), which waits for every one.
 */
export function backgroundWrites(limit: number) {
  const going = new Set<Promise<void>>();
  let failed: { err: unknown } | undefined;
  const check = () => {
    if (failed) throw failed.err;
  };
  return {
    async add(work: () => Promise<void>): Promise<void> {
      check();
      while (going.size >= limit) await Promise.race(going);
      check();
      const p: Promise<void> = work()
        .catch((err: unknown) => {
          failed ??= { err };
        })
        .finally(() => going.delete(p));
      going.add(p);
    },
    async drain(): Promise<void> {
      await Promise.all(going);
      check();
    },
  };
}

/** The current files whose key ranges may hold a key of the batch's rows in `where`. */
async function matching(d: LakeWriteDeps, known: ManifestFile[], where: string): Promise<Set<string>> {
  if (known.length === 0) return new Set();
  const keys = keyColumns(d.spec);
  const cols = ['name', ...keys.flatMap((_, i) => [`min${i}`, `max${i}`])].map(ident).join(', ');
  const values = known.map((f) => `(${[lit(f.name), ...keys.flatMap((k, i) => [typedLiteral(d.spec, k, f.min[i] ?? null), typedLiteral(d.spec, k, f.max[i] ?? null)])].join(', ')})`);
  await d.conn.run(`CREATE OR REPLACE TEMP TABLE ranges AS SELECT * FROM (VALUES ${values.join(', ')}) t(${cols})`);
  return new Set((await rows(d.conn, matchSql(keys, where))).map((r) => String(r.name)));
}

/**
 * Of the files whose ranges may hold a batch key (`candidates`), those that do: their key columns are
 * read and joined with the batch's keys (NULL equal to NULL, as the merge's dedup groups them), as Hudi
 * checks the candidates of its index against the keys in the file. A range is only a bound: in a feed
 * the newest file's range holds the next batch's first keys (the same day, other symbols) though no key
 * is in it twice; without this look every run would rewrite that file. Returns name → local copy.
 */
async function holding(d: LakeWriteDeps, p: PartitionState, candidates: Set<string>, where: string, tag: string): Promise<Map<string, string>> {
  const names = [...candidates].sort();
  if (names.length === 0) return new Map();
  const local = names.map((_, i) => path.join(d.dir, `${tag}-k${i}.parquet`));
  await pool(names, d.concurrency, (n, i) => d.store.download(p.location + n, local[i]!));
  const keys = keyColumns(d.spec).map(ident);
  const on = keys.map((k) => `f.${k} IS NOT DISTINCT FROM b.${k}`).join(' AND ');
  const hit = await rows(
    d.conn,
    `SELECT DISTINCT f.filename AS file FROM read_parquet([${local.map(lit).join(', ')}], filename = true) f
     SEMI JOIN (SELECT ${keys.join(', ')} FROM batch WHERE ${where}) b ON ${on}`,
  );
  const held = new Set(hit.map((r) => String(r.file)));
  return new Map(names.flatMap((n, i) => (held.has(local[i]!) ? [[n, local[i]!] as const] : [])));
}

/** Where a partition stands now: its pointer, location, generation, files and which the manifest knows. */
async function partitionState(d: Pick<LakeWriteDeps, 'store' | 'spec' | 'pointer'>, values: Record<string, string>) {
  const folder = partitionFolder(d.spec, values);
  const manifest = await readManifest(d.store, d.spec, values);
  const current = await d.pointer.current(values, manifest);
  const location = current ?? folder;
  const listed = await locationFiles(d.store, location);
  // the manifest's generation counts for the next one too: after a crash between a switch and the manifest
  // the two differ, and neither may be written over
  const manifestGeneration = manifest && manifest.location.startsWith(folder) ? manifest.generation : 0;
  return { values, folder, current, location, generation: generationOf(folder, location), manifestGeneration, listed, ...reconcile(listed, location, manifest) };
}
type PartitionState = Awaited<ReturnType<typeof partitionState>>;

/**
 * The states of many partitions, read `concurrency` at a time: they are independent (no other writer
 * changes a partition while the table's lock is held, and writing one partition changes no other's), and
 * one after another their three requests each held the lock for seconds: 18 s of a 25 s catch-up run of
 * 46 partitions in the chaos test, 12.7 s of a compaction of 38.
 */
async function partitionStates(d: Pick<LakeWriteDeps, 'store' | 'spec' | 'pointer' | 'concurrency'>, partitions: Record<string, string>[]): Promise<PartitionState[]> {
  const states = new Array<PartitionState>(partitions.length);
  await pool(partitions, d.concurrency, async (values, i) => {
    states[i] = await partitionState(d, values);
  });
  return states;
}

/**
 * A new generation of the partition: the rows of `out` as files of run `run`, the `kept` files copied
 * (server-side), the old generation entered for deletion, then the one switch of the pointer and the
 * manifest. Before the switch readers see the old generation whole, after it the new one.
 */
async function replaceGeneration(d: LakeWriteDeps, p: PartitionState, retired: RetiredGeneration[], kept: ManifestFile[], run: string, tag: string): Promise<ManifestFile[]> {
  const { store, spec } = d;
  const next = nextGeneration(Math.max(p.generation, p.manifestGeneration), retired, p.values);
  const target = generationLocation(p.folder, next);
  for (const o of await store.list(target)) await store.delete(o.key); // a crashed run's try at the same generation
  const written = await writeFiles(d, target, run, tag);
  const clash = kept.find((f) => written.some((w) => w.name === f.name));
  if (clash) throw new KafkalakeError(`the rewrite of ${label(spec, p.values)} names a new file like a kept one (${clash.name})`, { where: store.where(target) });
  await pool(kept, d.concurrency, (f) => store.copy(p.location + f.name, target + f.name));
  // the old generation is entered for deletion before the switch (a crash after it leaves an entry whose
  // location is still current, which the expiry drops without deleting); its clock starts now
  const i = retired.findIndex((r) => r.location === p.location && sameValues(r.values, p.values));
  if (i >= 0) retired.splice(i, 1);
  retired.push({ values: p.values, generation: p.generation, location: p.location, files: p.listed.map((o) => o.key.slice(p.location.length)), retiredAt: d.now().toISOString() });
  await writeRetired(store, spec, retired);
  await d.pointer.commit(p.values, target, p.current === undefined);
  await writeManifest(store, spec, { values: p.values, generation: next, location: target, files: [...kept, ...written] }, d.now());
  return written;
}

async function writePartition(d: LakeWriteDeps, p: PartitionState, retired: RetiredGeneration[], stats: WriteStats, publish: ReturnType<typeof backgroundWrites>): Promise<void> {
  const { store, spec } = d;
  const { values } = p;
  const where = partitionWhere(spec, values);
  const name = label(spec, values);
  if (p.current === undefined && p.listed.length === 0) stats.created.push(name);
  const candidates = await matching(d, p.known, where);
  const matched = await holding(d, p, candidates, where, `p${stats.appended.length + stats.rewritten.length}`);
  stats.filesProbed += candidates.size;

  if (matched.size === 0 && p.unknown.length === 0) {
    // append: the batch's keys are in no current file, so each new file adds rows no reader has
    // (its files are uploaded, then its manifest written, while the next partition is exported)
    await d.conn.run(numberedSql(spec, `SELECT * FROM batch WHERE ${where}`));
    const files = await exportFiles(d, d.run, `a${stats.appended.length}`);
    await publish.add(async () => {
      const added = await uploadFiles(d, p.location, files);
      if (p.current === undefined) await d.pointer.commit(values, p.location, true);
      await writeManifest(store, spec, { values, generation: p.generation, location: p.location, files: [...p.known, ...added] }, d.now());
    });
    stats.appended.push(name);
    stats.filesWritten += files.length;
    stats.rowsWritten += files.reduce((n, f) => n + f.entry.rows, 0);
    return;
  }

  // copy-on-write: the files that may hold a batch key (and every unknown one) are read and merged
  // (the matched files are local already: holding() read their keys)
  const unknown = p.unknown.map((o) => o.key);
  const fetched = unknown.map((_, i) => path.join(d.dir, `r${stats.rewritten.length}-${i}.parquet`));
  await pool(unknown, d.concurrency, (k, i) => store.download(k, fetched[i]!));
  const local = [...matched.values(), ...fetched];
  await d.conn.run(rewriteSql(spec, `batch WHERE ${where}`, local));
  await d.conn.run(numberedSql(spec, 'SELECT * FROM rw'));
  const kept = p.known.filter((f) => !matched.has(f.name));
  const written = await replaceGeneration(d, p, retired, kept, d.run, `w${stats.rewritten.length}`);
  stats.rewritten.push(name);
  stats.filesWritten += written.length;
  stats.rowsWritten += written.reduce((n, f) => n + f.rows, 0);
  stats.filesRead += local.length;
  stats.filesCopied += kept.length;
}

export interface CompactStats {
  /** partitions compacted into a new generation */
  partitions: string[];
  filesRead: number;
  filesWritten: number;
  rowsWritten: number;
  /** full files copied as they are into the compacted generation */
  filesCopied: number;
  retiredDeleted: number;
}

/**
 * Compaction (glue/README.md), a bin-pack as Iceberg's rewrite_data_files: a partition is due when its
 * current generation holds at least two small files (below 3/4 of maxRowsPerFile rows) and either more
 * than `maxFiles` files or more than one tiny file (below maxRowsPerFile / 4). Only its small files are
 * read and rewritten into files of maxRowsPerFile rows; its full files are copied (server-side) into the
 * new generation. A partition with a file its manifest does not know (a crashed run's) is rewritten
 * whole: such a file may hold any key. It reads every manifest of the table.
 */
export async function compactLake(d: Omit<LakeWriteDeps, 'run'> & { maxFiles: number }): Promise<CompactStats> {
  const { store, spec } = d;
  const stats: CompactStats = { partitions: [], filesRead: 0, filesWritten: 0, rowsWritten: 0, filesCopied: 0, retiredDeleted: 0 };
  await mkdir(d.dir, { recursive: true });
  stats.retiredDeleted = await expireRetired(d);
  const retired = await readRetired(store, spec);
  const partitions = (await store.list(`_state/lake/${spec.table}/`)).map((o) => manifestValues(spec, o.key)).filter((v) => v !== undefined);
  for (const p of await partitionStates(d, partitions)) {
    const plan = compactionPlan(spec.target.maxRowsPerFile, d.maxFiles, p.known, p.unknown.length);
    if (!plan) continue;
    const merged = p.listed.filter((o) => !plan.kept.some((f) => p.location + f.name === o.key));
    const local = merged.map((_, i) => path.join(d.dir, `c${stats.partitions.length}-${i}.parquet`));
    await pool(merged, d.concurrency, (f, i) => store.download(f.key, local[i]!));
    await d.conn.run(rewriteSql(spec, undefined, local));
    await d.conn.run(numberedSql(spec, 'SELECT * FROM rw'));
    const written = await replaceGeneration({ ...d, run: '' }, p, retired, plan.kept, runId(merged.map((f) => f.key)), `c${stats.partitions.length}`);
    stats.partitions.push(label(spec, p.values));
    stats.filesRead += merged.length;
    stats.filesCopied += plan.kept.length;
    stats.filesWritten += written.length;
    stats.rowsWritten += written.reduce((n, f) => n + f.rows, 0);
    d.log.info('compacted', { partition: label(spec, p.values), filesRead: merged.length, filesCopied: plan.kept.length, filesWritten: written.length });
  }
  return stats;
}

/**
 * Whether a partition is due for compaction and which of its known files are copied as they are
 * (glue/etl_job.py's compaction_plan decides the same): undefined when not due.
 */
export function compactionPlan(maxRowsPerFile: number, maxFiles: number, known: readonly ManifestFile[], unknown: number): { kept: ManifestFile[] } | undefined {
  const files = known.length + unknown;
  if (files === 0) return undefined;
  const small = known.filter((f) => f.rows < (maxRowsPerFile * 3) / 4).length + unknown;
  const tiny = known.filter((f) => f.rows < maxRowsPerFile / 4).length + unknown;
  if (small < 2 || (files <= maxFiles && tiny <= 1)) return undefined;
  // a file the manifest does not know may hold any key: only a whole rewrite deduplicates it
  return { kept: unknown > 0 ? [] : known.filter((f) => f.rows >= (maxRowsPerFile * 3) / 4) };
}

/** Every partition of `batch`: appended or rewritten, then its manifest; the caller expires retired generations before and moves the bookmark after. */
export async function writeLake(d: LakeWriteDeps): Promise<WriteStats> {
  const stats: WriteStats = { appended: [], rewritten: [], created: [], filesWritten: 0, rowsWritten: 0, filesRead: 0, filesProbed: 0, filesCopied: 0 };
  await mkdir(d.dir, { recursive: true });
  const retired = await readRetired(d.store, d.spec);
  const parts = (await rows(d.conn, batchPartitionsSql(d.spec))).filter((p) => Number(p.n) > 0);
  const values = parts.map((p) => Object.fromEntries(d.spec.partitionBy.map((k) => [k, String(p[k])])));
  const publish = backgroundWrites(d.concurrency);
  try {
    for (const p of await partitionStates(d, values)) await writePartition(d, p, retired, stats, publish);
  } catch (err) {
    await publish.drain().catch(() => undefined); // nothing of this run still writes once it has failed
    throw err;
  }
  await publish.drain();
  return stats;
}
