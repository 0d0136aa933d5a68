// What the ETL tests share: running glue/etl_job.py under the venv's real pyspark (local mode, file
// paths), copying a bucket prefix to a directory, and reading a lake with DuckDB.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ObjectStore } from '../../daemons/lib/etl/store.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';

export const VENV_BIN = path.join(PROJECT_ROOT, '.kafkalake/venv/bin');
export const SPEC_FILE = path.join(PROJECT_ROOT, 'glue/tables/stock_market_data.json');

export interface SparkResult {
  code: number | null;
  report: { job: string; tables: { table: string; objects: number; rowsRead: number; rowsRejected: number; partitions: string[]; files: number; oldestSentAtMs: number | null; committedAtMs: number | null }[] } | undefined;
  stderr: string;
  peakRssKb: number | undefined;
  ms: number;
}

/** spark-submit glue/etl_job.py on a directory, as Glue runs it on the bucket. */
export async function runSparkJob(dir: string, job: string, opts: { driverMemory?: string; timeoutMs?: number; measure?: boolean; specFile?: string; args?: string[] } = {}): Promise<SparkResult> {
  const args = [
    path.join(VENV_BIN, 'spark-submit'),
    '--master',
    'local[2]',
    '--driver-memory',
    opts.driverMemory ?? '1g',
    '--conf',
    'spark.ui.enabled=false',
    '--conf',
    'spark.sql.shuffle.partitions=8',
    path.join(PROJECT_ROOT, 'glue/etl_job.py'),
    '--kafkalake_root',
    `file://${path.resolve(dir)}/`,
    '--kafkalake_job',
    job,
    '--kafkalake_spec_files',
    opts.specFile ?? SPEC_FILE,
    ...(opts.args ?? []),
  ];
  const cmd = opts.measure ? '/usr/bin/time' : args[0]!;
  const argv = opts.measure ? ['-f', 'PEAK_RSS_KB=%M', ...args] : args.slice(1);
  const started = Date.now();
  return await new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env: { ...process.env, PATH: `${VENV_BIN}:${process.env.PATH ?? ''}`, PYSPARK_PYTHON: path.join(VENV_BIN, 'python') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      let report: SparkResult['report'];
      try {
        report = JSON.parse(last) as SparkResult['report'];
      } catch {
        report = undefined;
      }
      const m = /PEAK_RSS_KB=(\d+)/.exec(err);
      resolve({ code, report, stderr: err.split('\n').filter((l) => !/ (WARN|INFO) /.test(l)).slice(-30).join('\n'), peakRssKb: m ? Number(m[1]) : undefined, ms: Date.now() - started });
    });
  });
}

/** Copy every object under a prefix of one store into another (e.g. the twin's staging into a dir). */
export async function copyPrefix(from: ObjectStore, to: string, prefix: string): Promise<number> {
  const objs = await from.list(prefix);
  for (const o of objs) {
    const got = await from.get(o.key);
    const file = path.join(to, ...o.key.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, got!.body);
  }
  return objs.length;
}

/** Every partition manifest of a lake in a directory, without what may differ between executors (sizes, times). */
export function manifests(dir: string, table = 'stock_market_data'): Record<string, unknown> {
  const root = path.join(dir, '_state', 'lake', table);
  const out: Record<string, unknown> = {};
  for (const n of readdirSync(root, { recursive: true }).map(String).filter((f) => f.endsWith('.json') && !f.startsWith('_retired')).sort()) {
    const m = JSON.parse(readFileSync(path.join(root, n), 'utf8')) as { files: { bytes?: number }[]; updatedAt?: string };
    delete m.updatedAt;
    for (const f of m.files) delete f.bytes;
    out[n] = m;
  }
  return out;
}

/** A DuckDB session for comparing lakes; close() when done. */
export async function duck() {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run(`SET TimeZone = 'UTC'`);
  return {
    async rows(sql: string): Promise<Record<string, unknown>[]> {
      return (await conn.runAndReadAll(sql)).getRowObjectsJson();
    },
    async run(sql: string): Promise<void> {
      await conn.run(sql);
    },
    close() {
      conn.closeSync();
      db.closeSync();
    },
  };
}

/**
 * The current files of a lake in a directory, as a reader following the pointers sees them (protocol v3,
 * glue/README.md): each partition's manifest names its location and files. Paths, sorted.
 */
export function currentFiles(dir: string, table = 'stock_market_data'): string[] {
  const root = path.join(dir, '_state', 'lake', table);
  let names: string[];
  try {
    names = readdirSync(root, { recursive: true }).map(String);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names.filter((f) => f.endsWith('.json') && !f.startsWith('_retired'))) {
    const m = JSON.parse(readFileSync(path.join(root, n), 'utf8')) as { location: string; files: { name: string }[] };
    for (const f of m.files) out.push(path.join(dir, ...m.location.split('/'), f.name));
  }
  return out.sort();
}

/** A DuckDB scan of the current files (with the partition columns from their k=v folders). */
export function lakeScan(dir: string, table = 'stock_market_data'): string {
  const files = currentFiles(dir, table);
  if (files.length === 0) throw new Error(`no lake manifests under ${dir}/_state/lake/${table}`);
  return `read_parquet([${files.map((f) => `'${f}'`).join(', ')}], hive_partitioning = true)`;
}
