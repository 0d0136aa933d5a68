// The transpiler against the real worker (the venv's python with sqlglot) and DuckDB itself: Trino
// functions give Trino's answers, DuckDB-only syntax is refused as Athena refuses it, unnamed columns
// are named as Athena names them, and the worker survives bad input and being killed.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { DuckDBInstance } from '@duckdb/node-api';
import { createLogger } from '../../lib/log.js';
import { resolveFromRoot } from '../../lib/paths.js';
import { lockdown, sessionSettings } from './dialect.js';
import { symlinkSync, mkdirSync, readdirSync } from 'node:fs';
import { createTranspiler, transpilerPython } from './transpiler.js';

const log = createLogger({ daemon: 'transpiler-test', level: 'error', stream: process.stderr });
const venvDir = resolveFromRoot('.kafkalake/venv');
const tr = createTranspiler({ venvDir, log });
test.after.always(() => tr.close());

async function run(sql: string) {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run('CREATE SCHEMA kafkalake');
    for (const s of [...sessionSettings('kafkalake'), ...lockdown()]) await conn.run(s);
    const r = await conn.runAndReadAll(await tr.transpile(sql, 'test'));
    return { names: r.columnNames(), row: r.getRows()[0]?.map((v) => (v === null ? null : String(v))) };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

test('Trino functions DuckDB names otherwise give Trino’s answers (the macros they replace)', async (t) => {
  t.deepEqual((await run("SELECT regexp_like('HSI', '^H'), regexp_like('N225', '^H')")).row, ['true', 'false']);
  t.deepEqual((await run("SELECT to_unixtime(TIMESTAMP '1970-01-02 00:00:00')")).row, ['86400']);
  t.deepEqual((await run('SELECT approx_distinct(x) FROM (VALUES (1), (1), (2)) t(x)')).row, ['2']);
  t.deepEqual((await run('SELECT cardinality(ARRAY[1, 2, 3])')).row, ['3']);
  t.deepEqual((await run('SELECT approx_percentile(x, 0.5) FROM (VALUES (1), (2), (3)) t(x)')).row, ['2']);
  t.deepEqual((await run("SELECT date_format(TIMESTAMP '2020-01-02 03:04:05', '%Y-%m-%d %H:%i:%s')")).row, ['2020-01-02 03:04:05']);
  t.deepEqual((await run("SELECT day_of_week(DATE '2020-01-05'), element_at(ARRAY[10, 20, 30], 2)")).row, ['7', '20']);
  t.deepEqual((await run(`SELECT json_extract_scalar('{"a": {"b": "x"}}', '$.a.b')`)).row, ['x']);
});

test('a table column is typed from the catalog schema: a DATE column plus days stays a DATE, cardinality of a MAP column is its size', async (t) => {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run("CREATE TABLE t AS SELECT DATE '2020-01-31' AS d, MAP(['a', 'b'], [1, 2]) AS m");
    const sql = "SELECT date_add('month', 1, x.d), d - INTERVAL '1' DAY, cardinality(m) FROM t AS x";
    const schema = { t: { d: 'date', m: 'map<string,int>' } };
    const typed = await conn.runAndReadAll(await tr.transpile(sql, 'test', schema));
    t.deepEqual(typed.columnTypes().map(String), ['DATE', 'DATE', 'UBIGINT']);
    t.deepEqual(typed.getRows()[0]?.map(String), ['2020-02-29', '2020-01-30', '2']);
    // without the schema the column's type is unknown to the translation: DuckDB's TIMESTAMP, and a map refused
    await t.throwsAsync(async () => conn.runAndReadAll(await tr.transpile(sql, 'test')), { message: /array_length/i });
    const untyped = await conn.runAndReadAll(await tr.transpile("SELECT date_add('month', 1, d) FROM t", 'test'));
    t.deepEqual(untyped.columnTypes().map(String), ['TIMESTAMP']);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
});

test('unnamed result columns are _col0, _col1, … by position, as Athena names them; named ones keep their names', async (t) => {
  t.deepEqual((await run('SELECT count(*), 1 + 1 AS two, x, x * 2 FROM (VALUES (5)) t(x) GROUP BY x')).names, ['_col0', 'two', 'x', '_col3']);
  t.deepEqual((await run('SELECT 1 UNION ALL SELECT 2')).names, ['_col0']);
  t.deepEqual((await run('WITH a AS (SELECT 1 AS q) SELECT q, q + 1 FROM a')).names, ['q', '_col1']);
});

test('DuckDB-only syntax is refused in one line with Athena’s kind and the position in the user’s text', async (t) => {
  const refused = async (sql: string) => (await t.throwsAsync(tr.transpile(sql, 'query')))?.message;
  t.is(await refused('SELECT x::int FROM t'), "SYNTAX_ERROR: line 1:9: mismatched input '::'. Athena casts with CAST(x AS type)");
  t.is(await refused('SELECT 1,\n  * EXCLUDE (a) FROM t'), "SYNTAX_ERROR: line 2:5: mismatched input 'EXCLUDE'. Athena has no SELECT * EXCLUDE");
  t.regex((await refused('SELECT a FROM t QUALIFY row_number() OVER () = 1')) ?? '', /^SYNTAX_ERROR: line 1:25: mismatched input 'row_number'/);
  t.regex((await refused('SELEC 1')) ?? '', /^SYNTAX_ERROR: line 1:7: /);
  t.is(await refused('SELECT 1; SELECT 2'), 'SYNTAX_ERROR: 2 statements: run one query at a time');
  // a function Trino does not have, though DuckDB does; a table alias's column list is no call
  t.is(await refused('SELECT x, list_sum(ARRAY[x]) FROM (VALUES 1) t(x)'), "FUNCTION_NOT_FOUND: line 1:11: Function 'list_sum' not registered");
  t.is(await refused("SELECT\n  strftime(current_date, '%Y')"), "FUNCTION_NOT_FOUND: line 2:3: Function 'strftime' not registered");
  t.is(await tr.transpile('SELECT CAST(x AS DECIMAL(10, 2)) FROM (VALUES 1) t(x)', 'query'), 'SELECT CAST(x AS DECIMAL(10, 2)) AS _col0 FROM (VALUES (1)) AS t(x)');
  // DuckDB's own statements are not Athena's
  t.is(await refused('  LOAD httpfs'), "SYNTAX_ERROR: line 1:3: mismatched input 'LOAD': not a statement Athena runs");
  t.is(await refused("PRAGMA database_list"), "SYNTAX_ERROR: line 1:1: mismatched input 'PRAGMA': not a statement Athena runs");
  // Athena's own pass on to the engine's statement check
  t.is(await tr.transpile('VALUES 1, 2', 'query'), 'VALUES (1), (2)');
});

test('the worker survives a query it cannot read and being killed: the next query starts another', async (t) => {
  const own = createTranspiler({ venvDir, log });
  try {
    await t.throwsAsync(own.transpile("SELECT 'open", 'query'), { message: /^SYNTAX_ERROR: / });
    t.is(await own.transpile('SELECT 1', 'query'), 'SELECT 1 AS _col0');
    const pid = own.pid();
    t.truthy(pid);
    process.kill(pid!, 'SIGKILL');
    // the query in flight when it died fails in one line, or a new worker answered it: never a hang
    const after = await own.transpile('SELECT 2', 'query').catch((e: Error) => e.message);
    t.true(after === 'SELECT 2 AS _col0' || /^QUERY_FAILED: the SQL transpiler stopped/.test(after), after);
    t.is(await own.transpile('SELECT 3', 'query'), 'SELECT 3 AS _col0');
  } finally {
    own.close();
  }
});

test('a venv without python fails in one line that says what to run', async (t) => {
  const none = createTranspiler({ venvDir: path.join(mkdtempSync(path.join(os.tmpdir(), 'kl-novenv-')), 'venv'), log });
  const err = await t.throwsAsync(none.transpile('SELECT 1', 'query'));
  t.regex(err?.message ?? '', /^the SQL transpiler's Python is missing \(.*\/venv\/bin\/python\): run `npm run setup`/);
});

test('on a host (no venv) the release bundle’s python/sqlglot runs under the system python3', async (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kl-bundle-'));
  const none = path.join(root, 'no-venv');
  t.deepEqual(transpilerPython(none, root), { python: path.join(none, 'bin', 'python'), env: {} }, 'no bundle either: the venv is asked for (and its absence reported)');
  mkdirSync(path.join(root, 'python'));
  const site = path.join(venvDir, 'lib', readdirSync(path.join(venvDir, 'lib')).find((d) => d.startsWith('python3'))!, 'site-packages', 'sqlglot');
  symlinkSync(site, path.join(root, 'python', 'sqlglot'));
  t.deepEqual(transpilerPython(none, root), { python: 'python3', env: { PYTHONPATH: path.join(root, 'python') } });
  t.deepEqual(transpilerPython(venvDir, root).python, path.join(venvDir, 'bin', 'python'), 'a venv wins');
  const bundled = createTranspiler({ venvDir: none, log, root });
  try {
    t.is(await bundled.transpile('SELECT count(*) FROM t', 'query'), 'SELECT COUNT(*) AS _col0 FROM t');
  } finally {
    bundled.close();
  }
});
