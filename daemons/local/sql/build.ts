// Describe the tables a query reads in a DuckDB database file (one per snapshot of the catalog and
// the objects): per table, a view over the cached copies of its files with the catalog's column types,
// the partition values as columns, and Athena's hidden "$path" and "$file_size" (<table>$hidden; the
// table's name is a view without them, as SELECT * is). A table whose objects are larger than
// `copyBelowBytes` (reports.copyBelowMb) stays a view: a query scans the objects it reads, so a change of the lake costs a
// new view, not a copy of the whole table (the copy cost the soak's hourly report 40 → 71 s as the
// table grew). A smaller table is copied in: queries over it then skip reading each file's footer
// (the saved reports over the CSV's lake: 120–170 ms copied, 170–270 ms as views). Queries open the
// file read-only with external access off but for the object cache (dialect.ts lockdown).
import { rename, rm } from 'node:fs/promises';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { duckType } from '../crawler/types.js';
import { ident, lit } from './dialect.js';
import type { TableSource } from './sources.js';

function reader(s: TableSource): string {
  const files = `[${s.files.map((f) => lit(f.file)).join(', ')}]`;
  if (s.format === 'parquet') return `read_parquet(${files}, union_by_name = true, filename = true)`;
  const columns = `{${s.columns.map((c) => `${lit(c.Name)}: ${lit(duckType(c.Type))}`).join(', ')}}`;
  if (s.format === 'json') return `read_json(${files}, format = 'newline_delimited', columns = ${columns}, filename = true)`;
  return `read_csv(${files}, delim = ${lit(s.delimiter)}, header = ${s.header}, columns = ${columns}, filename = true)`;
}

/** Where a table's rows are stored: its view (the catalog's columns) reads this, which adds Athena's hidden columns. */
export const hiddenTable = (name: string) => `${name}$hidden`;
export const HIDDEN_COLUMNS = [
  { Name: '$path', Type: 'string' },
  { Name: '$file_size', Type: 'bigint' },
];

/**
 * A file's column as the catalog types it. A Parquet timestamp adjusted to UTC (what Spark and DuckDB
 * write) reads as TIMESTAMP WITH TIME ZONE; the catalog's `timestamp` is its UTC wall time. CAST takes
 * that through the time zone library, row by row (1.1 s for 2.7 million rows; a view pays it on every
 * query); the epoch's microseconds give the same value in 54 ms.
 */
function column(name: string, fileType: string | undefined, want: string): string {
  if (fileType === undefined) return `CAST(NULL AS ${want})`;
  if (fileType === 'TIMESTAMP WITH TIME ZONE' && want === 'TIMESTAMP') return `make_timestamp(epoch_us(d.${ident(name)}))`;
  return `CAST(d.${ident(name)} AS ${want})`;
}

/** Each file's partition values and hidden columns, joined to its rows by the reader's filename. */
const filesTable = (name: string) => `${name}$files`;

async function describeTable(conn: DuckDBConnection, schema: string, s: TableSource, copyBelowBytes: number): Promise<void> {
  const target = `${ident(schema)}.${ident(hiddenTable(s.name))}`;
  const all = [...s.columns, ...s.partitionKeys];
  const view = `CREATE VIEW ${ident(schema)}.${ident(s.name)} AS SELECT ${all.map((c) => ident(c.Name)).join(', ')} FROM ${target}`;
  if (s.files.length === 0) {
    await conn.run(`CREATE TABLE ${target} (${[...all, ...HIDDEN_COLUMNS].map((c) => `${ident(c.Name)} ${duckType(c.Type)}`).join(', ')})`);
    await conn.run(view);
    return;
  }
  const from = reader(s);
  const present = new Map(
    (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`)).getRowObjectsJS().map((r) => [(r.column_name as string).toLowerCase(), r.column_type as string] as const),
  );
  const proj = s.columns.map((c) => `${column(c.Name, present.get(c.Name.toLowerCase()), duckType(c.Type))} AS ${ident(c.Name)}`);
  const files = `${ident(schema)}.${ident(filesTable(s.name))}`;
  const keys = s.partitionKeys.map((_, i) => `p${i}`);
  await conn.run(`CREATE TABLE ${files} (${['filename VARCHAR', 'path VARCHAR', 'size BIGINT', ...keys.map((k) => `${k} VARCHAR`)].join(', ')})`);
  const appender = await conn.createAppender(filesTable(s.name), schema);
  for (const f of s.files) {
    appender.appendVarchar(f.file);
    appender.appendVarchar(f.uri);
    appender.appendBigInt(BigInt(f.size));
    for (const v of f.values) appender.appendVarchar(v);
    appender.endRow();
  }
  appender.closeSync();
  const parts = s.partitionKeys.map((k, i) => `CAST(f.p${i} AS ${duckType(k.Type)}) AS ${ident(k.Name)}`);
  const hidden = ['f.path AS "$path"', 'f.size AS "$file_size"'];
  const kind = s.files.reduce((n, f) => n + f.size, 0) < copyBelowBytes ? 'TABLE' : 'VIEW';
  await conn.run(`CREATE ${kind} ${target} AS SELECT ${[...proj, ...parts, ...hidden].join(', ')} FROM ${from} d JOIN ${files} f ON d.filename = f.filename`);
  await conn.run(view);
}

/** Build the database file at `file` (written beside it, then renamed into place). */
export async function buildDatabase(file: string, database: string, sources: TableSource[], opts: { memoryMb: number; threads: number; tempDir: string; copyBelowBytes: number }): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const instance = await DuckDBInstance.create(tmp, {
    threads: String(opts.threads),
    memory_limit: `${opts.memoryMb}MB`,
    temp_directory: opts.tempDir,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  try {
    await conn.run(`SET TimeZone = 'UTC'`);
    await conn.run(`CREATE SCHEMA IF NOT EXISTS ${ident(database)}`);
    for (const s of sources) await describeTable(conn, database, s, opts.copyBelowBytes);
    await conn.run('CHECKPOINT');
  } catch (err) {
    conn.closeSync();
    instance.closeSync();
    await rm(tmp, { force: true });
    await rm(`${tmp}.wal`, { force: true });
    throw err;
  }
  conn.closeSync();
  instance.closeSync();
  await rename(tmp, file);
}
