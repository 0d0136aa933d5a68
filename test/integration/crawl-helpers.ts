// Helpers of the crawl/reports/athena tests: the AWS twin alone (moto's server on a free port, no
// Kafka: these tests need only S3, Glue and Athena), configs for it, and a lake built from the CSV
// with DuckDB in the exact layout the ETL writes (datalake/stock_market_data/year=YYYY/part-*.parquet).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { parse } from 'csv-parse/sync';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { bucketOf, pool } from '../../daemons/lib/catalog/objects.js';
import { type Config, loadConfig } from '../../daemons/lib/config/index.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { freePort } from '../../daemons/local/ports.js';
import { awsTwin } from '../../daemons/local/services.js';
import { type ManagedProcess, startProcess, stopPid, waitUntil } from '../../daemons/local/process.js';
import { merge } from '../helpers/merge.js';

export const CSV_FILE = '/work/shared/data/stock-exchange/indexProcessed.csv';
export const TOPIC = 'stock_market_data';

export interface Twin {
  endpoint: string;
  dir: string;
  config(overrides?: Record<string, unknown>): Readonly<Config>;
  configFile(overrides?: Record<string, unknown>): string;
  bucket(): Promise<string>;
  stop(): Promise<void>;
}

export const unique = (p: string) => `${p}-${randomUUID().slice(0, 8)}`.toLowerCase();

export async function startTwin(): Promise<Twin> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-crawl-test-'));
  const port = await freePort();
  const settings = {
    stateDir: path.join(dir, 'state'),
    libDir: path.join(PROJECT_ROOT, '.kafkalake/lib'),
    venvDir: path.join(PROJECT_ROOT, '.kafkalake/venv'),
    host: '127.0.0.1',
    zookeeperPort: 1,
    kafkaPort: 1,
    controllerPort: 1,
    awsPort: port,
    kraft: false,
    kafkaHeapMb: 256,
  };
  const svc = awsTwin(settings);
  const proc: ManagedProcess = startProcess({ ...svc.prepare(), detached: false });
  await waitUntil('aws', () => svc.probe(), { timeoutMs: 60_000, proc });
  let n = 0;
  const base = {
    mode: 'local',
    log: { level: 'warn' },
    aws: { endpoint: svc.endpoint, bucket: 'unset' },
    local: { ...settings },
    reports: { cacheDir: path.join(dir, 'sql-cache') },
  };
  const twin: Twin = {
    endpoint: svc.endpoint,
    dir,
    configFile(overrides = {}) {
      const file = path.join(dir, `config-${++n}.json`);
      writeFileSync(file, JSON.stringify(merge(base, overrides), null, 2));
      return file;
    },
    config(overrides = {}) {
      return loadConfig({ file: twin.configFile(overrides), env: {} }).config;
    },
    async bucket() {
      const name = unique('kl-crawl');
      const aws = createAwsClients(twin.config());
      await aws.s3.send(new CreateBucketCommand({ Bucket: name }));
      aws.destroy();
      return name;
    },
    async stop() {
      await stopPid(proc.pid, 15_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return twin;
}

export interface CsvRow {
  index: string;
  date: string;
  open: number;
  high: number;
  low: number;
  close: number;
  adjClose: number;
  volume: number;
  closeUsd: number;
}

/** The CSV parsed by csv-parse, independently of kafkalake and DuckDB: the tests' expectations start here. */
export function readCsv(file = CSV_FILE): CsvRow[] {
  const recs = parse(readFileSync(file), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
  return recs.map((r) => ({
    index: r.Index!,
    date: r.Date!,
    open: Number(r.Open),
    high: Number(r.High),
    low: Number(r.Low),
    close: Number(r.Close),
    adjClose: Number(r['Adj Close']),
    volume: Math.round(Number(r.Volume)),
    closeUsd: Number(r.CloseUSD),
  }));
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * Write the lake of the CSV into the bucket as the ETL lays it out: one Snappy Parquet file per
 * year partition, the spec's columns and types, the Kafka envelope of a replay (one partition per
 * index, offsets in file order). Returns the row count and the partitions written.
 */
export async function buildLakeFromCsv(config: Readonly<Config>, opts: { csv?: string; ingestedAt?: Date } = {}): Promise<{ rows: number; years: string[] }> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'kafkalake-lake-'));
  const db = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '512MB' });
  const conn = await db.connect();
  const aws = createAwsClients(config);
  try {
    const ts = (opts.ingestedAt ?? new Date()).toISOString();
    await conn.run(`SET TimeZone='UTC'`);
    await conn.run(`CREATE TABLE src AS SELECT *, row_number() OVER () AS rn FROM read_csv(${lit(opts.csv ?? CSV_FILE)}, header=true, all_varchar=true)`);
    await conn.run(`CREATE TABLE lake AS
      SELECT "Index" AS "index", CAST("Date" AS DATE) AS trade_date, CAST("Open" AS DOUBLE) AS open, CAST("High" AS DOUBLE) AS high,
        CAST("Low" AS DOUBLE) AS low, CAST("Close" AS DOUBLE) AS close, CAST("Adj Close" AS DOUBLE) AS adj_close,
        CAST(CAST("Volume" AS DOUBLE) AS BIGINT) AS volume, CAST("CloseUSD" AS DOUBLE) AS close_usd,
        CAST(NULL AS TIMESTAMPTZ) AS event_time, ${lit(TOPIC)} AS _topic,
        CAST(dense_rank() OVER (ORDER BY "Index") - 1 AS INTEGER) AS _partition,
        CAST(row_number() OVER (PARTITION BY "Index" ORDER BY rn) - 1 AS BIGINT) AS _offset,
        TIMESTAMPTZ ${lit(ts)} AS _timestamp, "Index" AS _key,
        year(CAST("Date" AS DATE)) AS year
      FROM src`);
    await conn.run(`COPY (SELECT * FROM lake ORDER BY "index", trade_date) TO ${lit(path.join(work, 'out'))} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (year), FILENAME_PATTERN 'part-{i}')`);
    const rows = Number((await conn.runAndReadAll('SELECT count(*) AS n FROM lake')).getRowObjectsJS()[0]!.n);
    const bucket = bucketOf(aws.s3, config.aws.bucket);
    const years = (await readdir(path.join(work, 'out'))).filter((d) => d.startsWith('year=')).sort();
    const files: Array<[string, string]> = [];
    for (const y of years) for (const f of await readdir(path.join(work, 'out', y))) files.push([path.join(work, 'out', y, f), `datalake/${TOPIC}/${y}/${f.replace(/^part-(\d+)/, (_, d: string) => `part-${d.padStart(5, '0')}`)}`]);
    await pool(files, 8, async ([file, key]) => bucket.put(key, readFileSync(file)));
    return { rows, years: years.map((y) => y.slice(5)) };
  } finally {
    conn.closeSync();
    db.closeSync();
    aws.destroy();
    await rm(work, { recursive: true, force: true });
  }
}

/** Staged JSON lines (gzip) and DLQ objects, as the consumer writes them. */
export async function putStaging(config: Readonly<Config>, rows: Array<Record<string, unknown>>, opts: { dlq?: boolean; partition?: number; first?: number; dt?: string } = {}): Promise<string> {
  const aws = createAwsClients(config);
  try {
    const p = opts.partition ?? 0;
    const first = opts.first ?? 0;
    const last = first + rows.length - 1;
    const pad = (n: number) => String(n).padStart(20, '0');
    const key = `staging/${opts.dlq ? '_dlq/' : ''}${TOPIC}/dt=${opts.dt ?? '2026-11-21'}/${TOPIC}+${p}+${pad(first)}+${pad(last)}.jsonl.gz`;
    await bucketOf(aws.s3, config.aws.bucket).put(key, gzipSync(rows.map((r) => JSON.stringify(r)).join('\n') + '\n'));
    return key;
  } finally {
    aws.destroy();
  }
}

/** Write the rows of a DuckDB SELECT as one Parquet object at `key` (the tests' fixtures). */
export async function putParquet(config: Readonly<Config>, key: string, select: string): Promise<Buffer> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'kafkalake-pq-'));
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await db.connect();
  const aws = createAwsClients(config);
  try {
    const file = path.join(work, 'f.parquet');
    await conn.run(`SET TimeZone='UTC'`);
    await conn.run(`COPY (${select}) TO ${lit(file)} (FORMAT parquet, COMPRESSION snappy)`);
    const body = readFileSync(file);
    await bucketOf(aws.s3, config.aws.bucket).put(key, body);
    return body;
  } finally {
    conn.closeSync();
    db.closeSync();
    aws.destroy();
    await rm(work, { recursive: true, force: true });
  }
}

/** Put raw bytes at `key`. */
export async function putObject(config: Readonly<Config>, key: string, body: Buffer | string): Promise<void> {
  const aws = createAwsClients(config);
  try {
    await bucketOf(aws.s3, config.aws.bucket).put(key, body);
  } finally {
    aws.destroy();
  }
}

/** The text of an object, or undefined. */
export async function getText(config: Readonly<Config>, key: string): Promise<string | undefined> {
  const aws = createAwsClients(config);
  try {
    return (await bucketOf(aws.s3, config.aws.bucket).get(key))?.toString('utf8');
  } finally {
    aws.destroy();
  }
}

/** Keys under a prefix. */
export async function listKeys(config: Readonly<Config>, prefix: string): Promise<string[]> {
  const aws = createAwsClients(config);
  try {
    return (await bucketOf(aws.s3, config.aws.bucket).list(prefix)).map((o) => o.key).sort();
  } finally {
    aws.destroy();
  }
}
