// The local Athena: DuckDB runs Athena-dialect SQL over the tables of the (twin's) Glue catalog.
// Per query: sqlglot translates the Trino SQL to DuckDB's (transpiler.ts), find the tables it reads, resolve their files through the catalog, fill the cache,
// describe them in a snapshot database file of views over the cached objects (reused while nothing
// changed; build.ts), open it read-only with the object cache the only readable directory,
// extension loading and configuration locked, check the statement is a query,
// run it, and write the result where Athena would (athena-results/<query-id>.csv). After a new snapshot,
// the cache is pruned to what recent snapshots and queries read (cache.ts).
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { GlueClient, Table } from '@aws-sdk/client-glue';
import { DuckDBInstance, StatementType } from '@duckdb/node-api';
import type { Bucket } from '../../lib/catalog/objects.js';
import { glueCatalog } from '../../lib/catalog/glue-catalog.js';
import { type QueryResult, resultCsv } from '../../lib/athena/result.js';
import type { Logger } from '../../lib/log.js';
import { buildDatabase } from './build.js';
import { CACHE_GRACE_MS, pruneCache, touch, touchSnapshot, writeManifest } from './cache.js';
import { athenaType, lockdown, referencedTables, rewrite, sessionSettings } from './dialect.js';
import { QueryError, queryError } from './errors.js';
import { fillCache, objectsDir, resolveSources, snapshotId } from './sources.js';
import { answerShow, parseShow } from './show.js';
import { createTranspiler, type SqlSchema } from './transpiler.js';
import { athenaValue } from './values.js';

export interface LocalSqlDeps {
  glue: GlueClient;
  bucket: Bucket;
  database: string;
  cacheDir: string;
  outputPrefix: string;
  memoryMb: number;
  threads: number;
  log: Logger;
  /** snapshot database files kept in the cache (cache.ts) */
  keepSnapshots?: number;
  /** how long an object outlives the last snapshot that read it (cache.ts; tests shorten it) */
  cacheGraceMs?: number;
  /** a table whose objects total fewer bytes is copied into the snapshot, a larger one is a view over them (build.ts; reports.copyBelowMb) */
  copyBelowBytes: number;
  /** the Python venv with sqlglot (local.venvDir), which turns the Athena SQL into DuckDB's */
  venvDir: string;
}

const VERSION = 'kafkalake-sql-4'; // 2: the hidden columns; 3: views over the cached objects; 4: manifests

/** Each table's columns and partition keys with their Glue types, for the translation's typing. */
function schemaOf(tables: Table[]): SqlSchema {
  return Object.fromEntries(
    tables.map((t) => [t.Name ?? '', Object.fromEntries([...(t.StorageDescriptor?.Columns ?? []), ...(t.PartitionKeys ?? [])].map((c) => [c.Name ?? '', c.Type ?? 'string']))]),
  );
}
const ALLOWED = new Set<number>([StatementType.SELECT, StatementType.EXPLAIN]);

export function createLocalSqlEngine(deps: LocalSqlDeps) {
  const { bucket, database, log } = deps;
  const catalog = glueCatalog(deps.glue, database);
  const transpiler = createTranspiler({ venvDir: deps.venvDir, log });

  /** The snapshot database holding the tables `sql` reads. */
  async function snapshot(sql: string, tables: Table[]): Promise<string> {
    const names = referencedTables(sql, tables.map((t) => t.Name ?? ''));
    const sources = await resolveSources(catalog, bucket, tables.filter((t) => names.includes(t.Name ?? '')), deps.cacheDir);
    const dbDir = path.join(deps.cacheDir, 'db');
    await mkdir(dbDir, { recursive: true });
    const file = path.join(dbDir, `${snapshotId(database, sources, VERSION)}.duckdb`);
    if (!existsSync(file)) {
      const objects = sources.flatMap((s) => s.files.map((f) => f.file));
      // the objects already cached are marked in use first, so another process's pruning keeps them
      await touch(objects);
      const downloaded = await fillCache(bucket, sources);
      await writeManifest(file, objects);
      const t0 = Date.now();
      await buildDatabase(file, database, sources, { memoryMb: deps.memoryMb, threads: deps.threads, tempDir: path.join(deps.cacheDir, 'tmp'), copyBelowBytes: deps.copyBelowBytes });
      log.info('snapshot described', { tables: names, files: objects.length, downloaded, ms: Date.now() - t0 });
      const pruned = await pruneCache(deps.cacheDir, file, { keep: deps.keepSnapshots ?? 6, graceMs: deps.cacheGraceMs ?? CACHE_GRACE_MS });
      if (pruned.snapshots + pruned.objects > 0) log.info('cache pruned', { ...pruned });
    }
    return file;
  }

  /** The result written where Athena writes it (athena-results/<query-id>.csv), and returned. */
  async function result(r: Pick<QueryResult, 'columns' | 'rows'>, t0: number): Promise<QueryResult> {
    const queryId = randomUUID();
    const key = `${deps.outputPrefix}${queryId}.csv`;
    await bucket.put(key, resultCsv(r), 'text/csv');
    return { queryId, engine: 'duckdb', columns: r.columns, rows: r.rows, outputLocation: bucket.uri(key), durationMs: Date.now() - t0 };
  }

  async function query(sql: string, where = 'query'): Promise<QueryResult> {
    const t0 = Date.now();
    const show = parseShow(sql);
    if (show) return result(await answerShow(show, (db) => (db === database ? catalog : glueCatalog(deps.glue, db)), database, where), t0);
    // the prefix blanked first (same length), so sqlglot's positions are the user's
    const tables = await catalog.getTables();
    const text = await transpiler.transpile(rewrite(sql), where, schemaOf(tables));
    const open = async () => {
      const file = await snapshot(text, tables);
      await touchSnapshot(file);
      return DuckDBInstance.create(file, {
        access_mode: 'READ_ONLY',
        threads: String(deps.threads),
        memory_limit: `${deps.memoryMb}MB`,
        temp_directory: path.join(deps.cacheDir, 'tmp'),
        autoinstall_known_extensions: 'false',
        autoload_known_extensions: 'false',
      });
    };
    // another process may prune the snapshot between our check and our open: build it again once
    const instance = await open().catch(async (err: unknown) => {
      log.debug('snapshot gone before it was opened: rebuilding', { err: (err as Error).message });
      return open();
    });
    const conn = await instance.connect();
    try {
      for (const s of [...sessionSettings(database), ...lockdown(objectsDir(deps.cacheDir))]) await conn.run(s);
      let prepared;
      try {
        const stmts = await conn.extractStatements(text);
        if (stmts.count !== 1) throw new QueryError(`${stmts.count === 0 ? 'no statement' : `${stmts.count} statements`}: run one query at a time`, where);
        prepared = await stmts.prepare(0);
      } catch (err) {
        if (err instanceof QueryError) throw err;
        throw queryError(err, sql, where, database);
      }
      if (!ALLOWED.has(prepared.statementType)) {
        const kind = StatementType[prepared.statementType] ?? String(prepared.statementType);
        throw new QueryError(`NOT_SUPPORTED: only queries (SELECT, WITH, VALUES, EXPLAIN) run here; this is a ${kind.replace(/_STATEMENT$/, '')} statement`, where);
      }
      let reader;
      try {
        reader = await prepared.runAndReadAll();
      } catch (err) {
        throw queryError(err, sql, where, database);
      }
      const names = reader.columnNames();
      const types = reader.columnTypes();
      const columns = names.map((name, i) => ({ name, type: athenaType(String(types[i])) }));
      const rows = reader.getRows().map((r) => r.map((v, i) => athenaValue(v, types[i])));
      return await result({ columns, rows }, t0);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  }

  return { query, close: () => transpiler.close() };
}

export type LocalSqlEngine = ReturnType<typeof createLocalSqlEngine>;
