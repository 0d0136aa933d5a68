// The local Athena (DuckDB over the twin's catalog) as users meet it: `kafkalake query` in its three
// formats, failures as one line with the position, statements that are not queries refused, nothing
// written or read outside the engine's cache, and `kafkalake run report` naming a report that is not there.
// The tables are read in place here (reports.copyBelowMb 0: views over the cached objects, as a lake
// over 8 MB is); the reports test reads them copied, the default for a lake as small as the CSV's.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { parse } from 'csv-parse/sync';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { runCrawl } from '../../daemons/jobs/crawl.js';
import { localSqlDeps } from '../../daemons/jobs/query.js';
import type { Config } from '../../daemons/lib/config/index.js';
import { createLogger } from '../../daemons/lib/log.js';
import { PROJECT_ROOT, resolveFromRoot } from '../../daemons/lib/paths.js';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { bucketOf } from '../../daemons/lib/catalog/objects.js';
import { createLocalSqlEngine } from '../../daemons/local/sql/engine.js';
import { buildLakeFromCsv, listKeys, readCsv, startTwin, type Twin, unique } from './crawl-helpers.js';

let twin: Twin;
let config: Readonly<Config>;
let file: string;
const log = createLogger({ daemon: 'athena-local-test', level: 'warn', stream: process.stderr });
const cli = (args: string[]) => spawnSync(process.execPath, [`${PROJECT_ROOT}/dist/daemons/cli/main.js`, ...args, '--config', file], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_NO_WARNINGS: '1' } });

test.before(async () => {
  twin = await startTwin();
  const bucket = await twin.bucket();
  const over = { aws: { bucket }, crawl: { database: unique('kl_q').replace(/-/g, '_'), crawlerName: unique('crawler') }, reports: { copyBelowMb: 0 } };
  config = twin.config(over);
  file = twin.configFile(over);
  await buildLakeFromCsv(config);
  await runCrawl(config, log);
});

test.after.always(async () => {
  await twin?.stop();
});

const COUNT_SQL = `SELECT "index", count(*) AS days FROM stock_market_data WHERE "index" IN ('HSI', 'N225') GROUP BY "index" ORDER BY "index"`;
const counts = () => {
  const rows = readCsv();
  return ['HSI', 'N225'].map((i) => [i, rows.filter((r) => r.index === i).length]);
};

test.serial('kafkalake query --format json|csv|table', async (t) => {
  const json = cli(['query', COUNT_SQL, '--format', 'json']);
  t.is(json.status, 0, json.stderr);
  t.deepEqual(
    (JSON.parse(json.stdout) as Array<{ index: string; days: string }>).map((r) => [r.index, Number(r.days)]),
    counts(),
  );
  t.regex(json.stderr, /^2 rows; query [0-9a-f-]{36} \(duckdb, [\d.]+ s\) → s3:\/\/\S+\/athena-results\/[0-9a-f-]{36}\.csv\n$/);
  const id = /query ([0-9a-f-]{36})/.exec(json.stderr)![1]!;
  t.true((await listKeys(config, 'athena-results/')).includes(`athena-results/${id}.csv`));

  const csv = cli(['query', COUNT_SQL, '--format', 'csv']);
  t.is(csv.status, 0, csv.stderr);
  t.deepEqual(parse(csv.stdout), [['index', 'days'], ...counts().map(([i, n]) => [String(i), String(n)])]);
  t.true(csv.stdout.startsWith('"index","days"\n'));

  const table = cli(['query', COUNT_SQL]);
  t.is(table.status, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  t.is(lines.length, 4);
  t.regex(lines[0]!, /^index +\| days$/);
  t.regex(lines[2]!, new RegExp(`^HSI +\\| ${counts()[0]![1]}$`));
});

test.serial('SHOW TABLES, SHOW PARTITIONS, SHOW COLUMNS and DESCRIBE answer from the catalog with Athena’s columns', (t) => {
  const rows = (sql: string) => {
    const r = cli(['query', sql, '--format', 'csv']);
    t.is(r.status, 0, r.stderr);
    return parse(r.stdout, { columns: false }) as string[][];
  };
  t.deepEqual(rows('SHOW TABLES'), [['tab_name'], ['stock_market_data']]);
  t.deepEqual(rows("SHOW TABLES LIKE 'nothing%'"), [['tab_name']]);
  const years = [...new Set(readCsv().map((r) => r.date.slice(0, 4)))].sort();
  t.deepEqual(rows('SHOW PARTITIONS stock_market_data'), [['partition'], ...years.map((y) => [`year=${y}`])]);
  const cols = rows('SHOW COLUMNS IN stock_market_data');
  t.is(cols[0]![0], 'field');
  t.deepEqual(cols.slice(1, 3), [['index'], ['trade_date']]);
  t.deepEqual(cols.at(-1), ['year']);
  const desc = rows('DESCRIBE stock_market_data');
  t.deepEqual(desc[0], ['col_name', 'data_type', 'comment']);
  t.deepEqual(desc.find((r) => r[0] === 'close_usd')?.slice(0, 2), ['close_usd', 'double']);
  failsWith(t, ['query', 'SHOW PARTITIONS nosuch'], /^kafkalake: .*TABLE_NOT_FOUND: table nosuch does not exist in database kl_q_/);
});

test.serial('"$path" and "$file_size" name each row\'s object and its size, as Athena\'s hidden columns; SELECT * has neither', async (t) => {
  const rows = (sql: string) => {
    const r = cli(['query', sql, '--format', 'csv']);
    t.is(r.status, 0, r.stderr);
    return parse(r.stdout, { columns: false }) as string[][];
  };
  const aws = createAwsClients(config);
  const objects = (await bucketOf(aws.s3, config.aws.bucket).list('datalake/stock_market_data/')).filter((o) => o.key.endsWith('.parquet'));
  aws.destroy();
  const got = rows('SELECT "$path", "$file_size", count(*) AS n FROM stock_market_data GROUP BY 1, 2 ORDER BY 1');
  t.deepEqual(got[0], ['$path', '$file_size', 'n']);
  const sizes = new Map(objects.map((o) => [`s3://${config.aws.bucket}/${o.key}`, String(o.size)]));
  t.true(got.length > 2, 'one row per lake file');
  for (const [p, size] of got.slice(1)) t.is(size, sizes.get(p!), `${p} is a lake object of that size`);
  t.is(got.slice(1).reduce((n, r) => n + Number(r[2]), 0), readCsv().length, 'every row belongs to one file');
  // qualified, in a join with an alias, and absent from SELECT *
  t.is(rows('SELECT count(DISTINCT s."$path") FROM stock_market_data s WHERE s."$file_size" > 0')[1]![0], String(got.length - 1));
  const star = rows('SELECT * FROM stock_market_data LIMIT 1')[0]!;
  t.false(star.includes('$path') || star.includes('$file_size'), star.join(','));
  // read in place: the engine's DuckDB file holds a view over the cached objects, not their rows
  const dbDir = path.join(config.reports.cacheDir, 'db');
  const newest = readdirSync(dbDir)
    .filter((f) => f.endsWith('.duckdb'))
    .map((f) => ({ f, t: statSync(path.join(dbDir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t)[0]!.f;
  const db = await DuckDBInstance.create(path.join(dbDir, newest), { access_mode: 'READ_ONLY' });
  const conn = await db.connect();
  try {
    const kinds = (await conn.runAndReadAll(`SELECT table_name, table_type FROM information_schema.tables WHERE table_name LIKE 'stock_market_data%' ORDER BY 1`)).getRows();
    t.deepEqual(kinds, [
      ['stock_market_data', 'VIEW'],
      ['stock_market_data$files', 'BASE TABLE'],
      ['stock_market_data$hidden', 'VIEW'],
    ]);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
});

function failsWith(t: { is: (a: unknown, b: unknown, m?: string) => void; regex: (s: string, r: RegExp) => void }, args: string[], re: RegExp, status = 1) {
  const r = cli(args);
  t.is(r.status, status, r.stdout);
  t.is(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr} (${args.join(' ')})`);
  t.regex(r.stderr, re);
}

test.serial('bad SQL, a missing table or column: one line with the error and its line:column', (t) => {
  failsWith(t, ['query', 'SELECT "index"\nFORM stock_market_data'], /^kafkalake: .*SYNTAX_ERROR: line 2:6: mismatched input 'stock_market_data'/);
  failsWith(t, ['query', 'SELECT * FROM stock_market_dta'], /^kafkalake: .*TABLE_NOT_FOUND: line 1:15: table stock_market_dta does not exist in database kl_q_/);
  failsWith(t, ['query', 'SELECT nosuch FROM stock_market_data'], /^kafkalake: .*COLUMN_OR_TYPE_ERROR: line 1:8: Referenced column "nosuch" not found/);
  failsWith(t, ['query', 'SELECT 1', '--format', 'xml'], /^kafkalake: .*--format must be one of table, csv, json, got "xml"/, 2);
});

test.serial('read-only: writes, file access, extension loading and settings are refused, nothing is written', (t) => {
  const out = path.join(twin.dir, 'leak.csv');
  failsWith(t, ['query', `COPY (SELECT 1) TO '${out}'`], /^kafkalake: .*SYNTAX_ERROR: line 1:1: mismatched input 'COPY'/);
  t.false(existsSync(out));
  // DuckDB's file readers are no Trino functions (and the session could not read a file anyway: dialect.test.ts)
  failsWith(t, ['query', "SELECT * FROM read_csv('/etc/passwd')"], /^kafkalake: .*FUNCTION_NOT_FOUND: line 1:15: Function 'read_csv' not registered/);
  failsWith(t, ['query', 'CREATE TABLE x AS SELECT 1'], /^kafkalake: .*NOT_SUPPORTED: only queries .* this is a CREATE statement/);
  // DuckDB's own statements are not Athena's: refused by the parser, as Athena refuses them
  failsWith(t, ['query', 'INSTALL httpfs'], /^kafkalake: .*SYNTAX_ERROR: line 1:1: mismatched input 'INSTALL'/);
  failsWith(t, ['query', "ATTACH '/tmp/x.duckdb'"], /^kafkalake: .*SYNTAX_ERROR: line 1:\d+: /);
  failsWith(t, ['query', 'SET enable_external_access = true'], /^kafkalake: .*NOT_SUPPORTED: .* this is a SET statement/);
  failsWith(t, ['query', 'SELECT 1; DROP TABLE stock_market_data'], /^kafkalake: .*2 statements: run one query at a time/);
  const ok = cli(['query', 'SELECT count(*) AS n FROM stock_market_data', '--format', 'json']);
  t.deepEqual(JSON.parse(ok.stdout), [{ n: String(readCsv().length) }], 'the table is intact');
});

test.serial('kafkalake run report: an unknown name lists the known ones; a known one writes its file', async (t) => {
  failsWith(t, ['run', 'report', 'nosuch'], /^kafkalake: .*no saved query "nosuch"; known: best_worst_days, daily_ohlc, data_quality, freshness, rolling_30d_close_usd, yearly_ohlc, all/);
  const r = cli(['run', 'report', 'yearly_ohlc']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^report yearly_ohlc: \d+ rows → s3:\/\/\S+\/reports\/yearly_ohlc\/\d{4}-\d{2}-\d{2}\.csv \(query [0-9a-f-]{36}, [\d.]+ s\)\n$/);
  t.is((await listKeys(config, 'reports/yearly_ohlc/')).length, 1);
  // data_quality needs the DLQ table, which this lake has not: the failure names the report and the table
  failsWith(t, ['run', 'report', 'data_quality'], /^kafkalake: .*1 of 1 reports failed: data_quality: TABLE_NOT_FOUND: line \d+:\d+: table dlq_stock_market_data does not exist/);
});

// last: it retires one of the lake's objects
test.serial('the cache follows the lake: the copy of an object the lake retired goes once no recent query reads it', async (t) => {
  const aws = createAwsClients(config);
  const bucket = bucketOf(aws.s3, config.aws.bucket);
  // as `kafkalake query` makes it, with one snapshot kept and no grace, so the pruning shows at once
  const engine = createLocalSqlEngine({ ...localSqlDeps(config, aws.glue, bucket, log), copyBelowBytes: 0, keepSnapshots: 1, cacheGraceMs: 0 });
  const objectsDir = path.join(resolveFromRoot(config.reports.cacheDir), 'objects');
  const lakeFiles = async () => (await bucket.list('datalake/stock_market_data/')).filter((o) => o.key.endsWith('.parquet'));
  try {
    const count = async (where = 'TRUE') => Number((await engine.query(`SELECT count(*) FROM stock_market_data WHERE ${where}`)).rows[0]![0]);
    const before = await count();
    t.is(before, readCsv().length);
    const files = await lakeFiles();
    const retired = files[0]!;
    const itsRows = await count(`"$path" = '${bucket.uri(retired.key)}'`);
    t.true(itsRows > 0);
    // the earlier tests' queries left copies of every file; a query over the table now reads them all
    t.is(readdirSync(objectsDir).length, files.length);
    await aws.s3.send(new DeleteObjectCommand({ Bucket: config.aws.bucket, Key: retired.key }));
    t.is(await count(), before - itsRows, 'the query no longer reads the retired object');
    t.is(readdirSync(objectsDir).length, files.length - 1, 'its copy left the cache; every other stays');
  } finally {
    engine.close();
    aws.destroy();
  }
});
