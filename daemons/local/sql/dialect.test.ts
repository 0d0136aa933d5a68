// The Athena/DuckDB differences the local engine handles, checked against DuckDB itself: each
// setting makes DuckDB give Trino's answer; rewrites keep the query's length.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { DuckDBInstance } from '@duckdb/node-api';
import { athenaType, lockdown, referencedTables, rewrite, sessionSettings } from './dialect.js';
import { errorPosition, queryError } from './errors.js';

async function session() {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  await conn.run('CREATE SCHEMA kafkalake');
  for (const s of [...sessionSettings('kafkalake'), ...lockdown()]) await conn.run(s);
  const one = async (sql: string) => (await conn.runAndReadAll(sql)).getRows()[0]?.map((v) => (v === null ? null : String(v)));
  return { conn, one, close: () => (conn.closeSync(), instance.closeSync()) };
}

test('integer division, NULL order and time zone as Trino has them', async (t) => {
  const s = await session();
  try {
    t.deepEqual(await s.one('SELECT 7 / 2, -7 / 2, 7.0 / 2'), ['3', '-3', '3.5']);
    t.deepEqual(await s.one('SELECT list(x ORDER BY x DESC) FROM (VALUES (1), (NULL), (2)) t(x)'), ['[2, 1, NULL]']);
    t.deepEqual(await s.one("SELECT current_setting('TimeZone')"), ['UTC']);
  } finally {
    s.close();
  }
});

test('the session is locked: no settings, no file access, no extensions', async (t) => {
  const s = await session();
  try {
    await t.throwsAsync(s.conn.run('SET enable_external_access = true'), { message: /lock/i });
    await t.throwsAsync(s.conn.run("SELECT * FROM read_csv('/etc/passwd')"), { message: /disabled by configuration/ });
    await t.throwsAsync(s.conn.run("COPY (SELECT 1) TO '/tmp/kafkalake-should-not-exist.csv'"), { message: /disabled by configuration/ });
    await t.throwsAsync(s.conn.run('LOAD httpfs'), { message: /./ });
  } finally {
    s.close();
  }
});

test('a session that may read one directory reads it and nothing beside or above it', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'kl-lockdown-'));
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await mkdir(path.join(dir, 'objects'));
    await conn.run(`COPY (SELECT 42 AS n) TO '${dir}/objects/a.parquet' (FORMAT parquet)`);
    await conn.run(`COPY (SELECT 7 AS n) TO '${dir}/outside.parquet' (FORMAT parquet)`);
    await conn.run(`CREATE VIEW v AS SELECT n FROM read_parquet('${dir}/objects/a.parquet')`);
    for (const s of lockdown(path.join(dir, 'objects'))) await conn.run(s);
    t.deepEqual((await conn.runAndReadAll('SELECT n FROM v')).getRows(), [[42]]);
    await t.throwsAsync(conn.run(`SELECT * FROM read_parquet('${dir}/outside.parquet')`), { message: /Permission Error|not allowed|disabled/i });
    await t.throwsAsync(conn.run(`SELECT * FROM read_parquet('${dir}/objects/../outside.parquet')`), { message: /Permission Error|not allowed|disabled/i });
    // writing there is not refused by these settings: the engine runs only SELECT and EXPLAIN (athena-local.test.ts)
    await t.throwsAsync(conn.run('SET allowed_directories = []'), { message: /lock/i });
  } finally {
    conn.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
});

test('rewrite blanks the awsdatacatalog prefix and keeps every position', (t) => {
  const q = 'SELECT * FROM awsdatacatalog.kafkalake.t JOIN "AwsDataCatalog" . kafkalake.u ON true';
  const r = rewrite(q);
  t.is(r.length, q.length);
  t.is(r.replace(/ +/g, ' '), 'SELECT * FROM kafkalake.t JOIN kafkalake.u ON true');
  t.is(rewrite("SELECT 'awsdatacatalog'"), "SELECT 'awsdatacatalog'");
});

test('result types in Athena’s names', (t) => {
  t.deepEqual(['HUGEINT', 'BIGINT', 'INTEGER', 'DOUBLE', 'FLOAT', 'VARCHAR', 'DATE', 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'DECIMAL(18,3)'].map(athenaType), [
    'bigint',
    'bigint',
    'integer',
    'double',
    'real',
    'varchar',
    'date',
    'timestamp',
    'timestamp with time zone',
    'decimal',
  ]);
});

test('referenced tables are the catalog’s names used as words', (t) => {
  t.deepEqual(referencedTables('SELECT * FROM Stock_Market_Data s JOIN dlq_x ON 1=1', ['stock_market_data', 'dlq_x', 'staging_stock_market_data']), ['dlq_x', 'stock_market_data']);
});

test('DuckDB errors become one line with the line and column in the user’s query', async (t) => {
  const s = await session();
  try {
    const sql = 'SELECT 1,\n   2 FORM t';
    const err = await s.conn.run(sql).catch((e: unknown) => e);
    t.deepEqual(errorPosition((err as Error).message, sql), { line: 2, column: 11 });
    const q = queryError(err, sql, 'query', 'kafkalake');
    t.is(q.message, 'SYNTAX_ERROR: line 2:11: syntax error at or near "t"');
    const long = `SELECT ${Array.from({ length: 40 }, (_, i) => `c${i}`).join(', ')} FROM nosuch`;
    const e2 = await s.conn.run(long).catch((e: unknown) => e);
    const q2 = queryError(e2, long, 'query', 'kafkalake');
    t.is(q2.message, `TABLE_NOT_FOUND: line 1:${long.indexOf('nosuch') + 1}: table nosuch does not exist in database kafkalake`);
    // DuckDB ran sqlglot's translation, not the user's text: the word at its caret is found in the user's
    const ran = "SELECT * FROM READ_CSV('/etc/passwd')";
    const e3 = await s.conn.run(ran).catch((e: unknown) => e);
    t.deepEqual(errorPosition((e3 as Error).message, "select *\n  from read_csv('/etc/passwd')"), { line: 2, column: 8 });
    // a word the user's text has twice, or not at all: no position rather than a wrong one
    t.is(errorPosition((e3 as Error).message, "select read_csv from read_csv('/etc/passwd')"), undefined);
    t.is(errorPosition((e3 as Error).message, 'select 1'), undefined);
  } finally {
    s.close();
  }
});
