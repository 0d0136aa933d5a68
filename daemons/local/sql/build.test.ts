// The snapshot database both ways: a table copied in and a view over the cached objects answer
// alike (partition values, a column a file lacks, Athena's hidden columns), also in the locked
// read-only session queries run in; only the view still reads the objects.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { DuckDBInstance } from '@duckdb/node-api';
import { buildDatabase } from './build.js';
import { lockdown, sessionSettings } from './dialect.js';
import type { TableSource } from './sources.js';

async function fixture() {
  const dir = await mkdtemp(path.join(tmpdir(), 'kl-build-'));
  const objects = path.join(dir, 'objects');
  await mkdir(objects);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const files = [
    // a UTC-adjusted timestamp, as Spark and DuckDB write one: the catalog's timestamp is its UTC wall time
    { name: 'a.parquet', year: '2020', sql: `SELECT 'HSI' AS "index", 1.5 AS close, 10 AS volume, TIMESTAMPTZ '2020-01-02 05:04:05.123456+02' AS seen` },
    { name: 'b.parquet', year: '2020', sql: `SELECT 'N225' AS "index", 2.5 AS close, 20 AS volume, NULL::TIMESTAMPTZ AS seen UNION ALL SELECT 'GDAXI', 3.5, 30, TIMESTAMPTZ '2020-12-31 23:59:59-05'` },
    // an older file without the volume column: NULL there, as Athena reads it
    { name: 'c.parquet', year: '2021', sql: `SELECT 'HSI' AS "index", 4.5 AS close` },
  ];
  for (const f of files) await conn.run(`COPY (${f.sql}) TO '${path.join(objects, f.name)}' (FORMAT parquet)`);
  conn.closeSync();
  instance.closeSync();
  const source: TableSource = {
    name: 'quotes',
    format: 'parquet',
    delimiter: ',',
    header: false,
    columns: [
      { Name: 'index', Type: 'string' },
      { Name: 'close', Type: 'double' },
      { Name: 'volume', Type: 'bigint' },
      { Name: 'seen', Type: 'timestamp' },
    ],
    partitionKeys: [{ Name: 'year', Type: 'int' }],
    files: files.map((f, i) => ({ key: `lake/quotes/year=${f.year}/${f.name}`, etag: `e${i}`, values: [f.year], file: path.join(objects, f.name), uri: `s3://lake/quotes/year=${f.year}/${f.name}`, size: 1000 + i })),
  };
  return { dir, objects, source };
}

async function build(dir: string, source: TableSource, copyBelowBytes: number): Promise<string> {
  const file = path.join(dir, `snapshot-${copyBelowBytes}.duckdb`);
  await buildDatabase(file, 'kafkalake', [source], { memoryMb: 256, threads: 1, tempDir: path.join(dir, 'tmp'), copyBelowBytes });
  return file;
}

/** Rows of `sql` in the session a query gets: read-only, settings as Athena's, only the objects readable. */
async function ask(file: string, objects: string, sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  try {
    for (const s of [...sessionSettings('kafkalake'), ...lockdown(objects)]) await conn.run(s);
    return (await conn.runAndReadAll(sql)).getRowsJS();
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const ALL = 'SELECT "index", close, volume, CAST(seen AS VARCHAR), year FROM quotes ORDER BY year, "index"';
const HIDDEN = 'SELECT "index", "$path", "$file_size" FROM "quotes$hidden" WHERE year = 2020 ORDER BY "index"';

test('copied and viewed, a table answers alike in the locked session; only the view reads the objects after', async (t) => {
  const { dir, objects, source } = await fixture();
  try {
    const copied = await build(dir, source, Number.MAX_SAFE_INTEGER);
    const viewed = await build(dir, source, 0);
    const expected = [
      ['GDAXI', 3.5, 30n, '2021-01-01 04:59:59', 2020],
      ['HSI', 1.5, 10n, '2020-01-02 03:04:05.123456', 2020],
      ['N225', 2.5, 20n, null, 2020],
      ['HSI', 4.5, null, null, 2021],
    ];
    t.deepEqual(await ask(copied, objects, ALL), expected);
    t.deepEqual(await ask(viewed, objects, ALL), expected);
    const hidden = [
      ['GDAXI', 's3://lake/quotes/year=2020/b.parquet', 1001n],
      ['HSI', 's3://lake/quotes/year=2020/a.parquet', 1000n],
      ['N225', 's3://lake/quotes/year=2020/b.parquet', 1001n],
    ];
    t.deepEqual(await ask(copied, objects, HIDDEN), hidden);
    t.deepEqual(await ask(viewed, objects, HIDDEN), hidden);
    const kind = `SELECT table_type FROM information_schema.tables WHERE table_name = 'quotes$hidden'`;
    t.deepEqual(await ask(copied, objects, kind), [['BASE TABLE']]);
    t.deepEqual(await ask(viewed, objects, kind), [['VIEW']]);
    // with the objects gone, the copy still answers and the view cannot
    await rm(objects, { recursive: true });
    t.deepEqual(await ask(copied, objects, ALL), expected);
    await t.throwsAsync(ask(viewed, objects, ALL), { message: /a\.parquet|No files found|IO Error/ });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a view does not open the session beyond the object cache', async (t) => {
  const { dir, source } = await fixture();
  try {
    const viewed = await build(dir, source, 0);
    // the same view read in a session whose one readable directory is elsewhere is refused
    await t.throwsAsync(ask(viewed, path.join(dir, 'elsewhere'), ALL), { message: /Permission Error|not allowed|disabled/i });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
