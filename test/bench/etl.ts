// ETL benchmark: the same simulated staging (N records, gzip JSON lines in objects of 50,000) merged
// into an empty lake by the local DuckDB executor and by glue/etl_job.py under pyspark local[2], in
// the same run, each in its own process on its own copy of the data (file paths, no S3 in between).
// Reports wall time, rows/s, the ratio, and the peak RSS of each process tree (sampled from /proc).
//   node dist/test/bench/etl.js [--quick] [--records N] [--repeat K]
// (and --worker DIR [--memory-mb N]: one DuckDB executor run over DIR, what runEtl spawns)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadSpecs } from '../../daemons/lib/etl/spec.js';
import { dirStore } from '../../daemons/lib/etl/store.js';
import { createLogger } from '../../daemons/lib/log.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { createLocalEtl } from '../../daemons/local/etl/executor.js';
import { duck, lakeScan, SPEC_FILE, VENV_BIN } from '../integration/etl-helpers.js';
import { descendants } from '../helpers/proc.js';
import { type Benchmark, type BenchContext, fmt, machine, median, treeRssKb } from './harness.js';
import { simulatedRecords, stager } from '../integration/etl-staging.js';

const JOB = 'bench-etl';
export const MEMORY_MB = 1536;
// Spark in local mode is driver and executor in one JVM: at 10,000,000 records it ran out of memory (exit 52)
// with 1536 MB, so it gets 4 GB (a Glue G.1X worker has 16 GB); DuckDB stays within its 1536 MB limit.
export const SPARK_MEMORY_MB = 4096;

export interface Measured {
  ms: number;
  peakRssMb: number;
  code: number | null;
  stderr: string;
}

/** Run a command, sampling its process tree's RSS; past `timeoutMs` the tree is SIGKILLed (code null). */
export async function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = Infinity): Promise<Measured> {
  const started = Date.now();
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, treeRssKb(child.pid!))), 250);
  const kill = Number.isFinite(timeoutMs)
    ? setTimeout(() => {
        stderr += `\nkilled after ${timeoutMs} ms`;
        for (const pid of [...descendants(child.pid!), child.pid!]) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone meanwhile */
          }
        }
      }, timeoutMs)
    : undefined;
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  clearTimeout(kill);
  return { ms: Date.now() - started, peakRssMb: Math.round(peak / 1024), code, stderr };
}

export type Engine = 'duckdb' | 'spark';

/** A run that exited non-zero or was killed, with its measurement and a one-line reason from its stderr. */
export class EtlRunFailed extends Error {
  readonly reason: string;
  constructor(
    readonly engine: Engine,
    readonly measured: Measured,
  ) {
    const lines = measured.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
    // DuckDB's error comes first, then its hints; Spark's last lines are its stack trace
    const reason = (engine === 'duckdb' ? lines.find((l) => /Error|killed after/.test(l)) : undefined) ?? lines.slice(-5).join(' ');
    super(`${engine} failed (exit ${measured.code}): ${reason}`);
    this.reason = reason.replace(/^etl bench: /, '').replace(/\s*Possible solutions:.*/s, '').slice(0, 300);
  }
}

/** One ETL run over the bucket in directory `root`, in a process of its own: the DuckDB executor (this
 * module's --worker, memory_limit `memoryMb`) or glue/etl_job.py under spark-submit. Throws EtlRunFailed
 * when it fails or outlives `timeoutMs`. */
export async function runEtl(engine: Engine, root: string, opts: { timeoutMs?: number; memoryMb?: number } = {}): Promise<Measured> {
  const m =
    engine === 'duckdb'
      ? await measure(process.execPath, [fileURLToPath(import.meta.url), '--worker', root, '--memory-mb', String(opts.memoryMb ?? MEMORY_MB)], process.env, opts.timeoutMs)
      : await measure(
          path.join(VENV_BIN, 'spark-submit'),
          ['--master', 'local[2]', '--driver-memory', `${SPARK_MEMORY_MB}m`, '--conf', 'spark.ui.enabled=false', '--conf', 'spark.sql.shuffle.partitions=8',
            path.join(PROJECT_ROOT, 'glue/etl_job.py'), '--kafkalake_root', `file://${root}/`, '--kafkalake_job', JOB, '--kafkalake_spec_files', SPEC_FILE],
          { ...process.env, PATH: `${VENV_BIN}:${process.env.PATH ?? ''}`, PYSPARK_PYTHON: path.join(VENV_BIN, 'python') },
          opts.timeoutMs,
        );
  if (m.code !== 0) throw new EtlRunFailed(engine, m);
  return m;
}

/** Staging as the benchmarks write it: 6 Kafka partitions, objects of 50,000 records, in a directory. */
export const etlStager = (dir: string) => stager(dirStore(dir), 'stock_market_data', { partitions: 6, perObject: 50_000, track: false });

async function stage(dir: string, records: number): Promise<void> {
  await etlStager(dir).stage(simulatedRecords(records, 1000, 7), { dt: '2026-11-21' });
}

async function lakeRows(dir: string): Promise<number> {
  const db = await duck();
  try {
    const [r] = await db.rows(`SELECT count(*)::BIGINT AS n FROM ${lakeScan(dir)}`);
    return Number(r?.n);
  } finally {
    db.close();
  }
}


export interface EtlBenchResult {
  records: number;
  repeat: number;
  duckdb: { ms: number; rowsPerS: number; peakRssMb: number };
  spark: { ms: number; rowsPerS: number; peakRssMb: number };
  ratio: number;
  stageMs: number;
}

export async function benchEtl(opts: { records: number; repeat: number; log?: (s: string) => void }): Promise<EtlBenchResult> {
  const say = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const base = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-bench-etl-'));
  try {
    const t0 = Date.now();
    await stage(path.join(base, 'source'), opts.records);
    const stageMs = Date.now() - t0;
    say(`etl bench: staged ${opts.records} records in ${(stageMs / 1000).toFixed(1)} s`);
    const runs: Record<Engine, Measured[]> = { duckdb: [], spark: [] };
    for (let i = 0; i < opts.repeat; i++) {
      for (const engine of ['duckdb', 'spark'] as const) {
        const root = path.join(base, `${engine}-${i}`);
        await cp(path.join(base, 'source'), root, { recursive: true });
        const m = await runEtl(engine, root);
        const rows = await lakeRows(root);
        if (rows !== opts.records) throw new Error(`${engine} wrote ${rows} rows, expected ${opts.records}`);
        say(`etl bench: ${engine} run ${i + 1}: ${(m.ms / 1000).toFixed(1)} s, ${Math.round(opts.records / (m.ms / 1000))} rows/s, peak RSS ${m.peakRssMb} MB`);
        runs[engine].push(m);
        rmSync(root, { recursive: true, force: true });
      }
    }
    const sum = (ms: Measured[]) => {
      const t = median(ms.map((m) => m.ms));
      return { ms: t, rowsPerS: Math.round(opts.records / (t / 1000)), peakRssMb: Math.max(...ms.map((m) => m.peakRssMb)) };
    };
    const duckdb = sum(runs.duckdb);
    const spark = sum(runs.spark);
    return { records: opts.records, repeat: opts.repeat, duckdb, spark, ratio: Math.round((duckdb.rowsPerS / spark.rowsPerS) * 100) / 100, stageMs };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

/** The ETL section of BENCHMARKS.md (test/bench/main.ts runs it; --quick keeps CI small). */
export const etlBench: Benchmark = {
  name: 'etl',
  section: 'ETL',
  async run(ctx: BenchContext) {
    const records = ctx.quick ? 100_000 : Number(process.env.KAFKALAKE_BENCH_ETL_RECORDS ?? 10_000_000);
    const repeat = ctx.quick ? 1 : Number(process.env.KAFKALAKE_BENCH_ETL_REPEAT ?? 1);
    const m = machine();
    const r = await benchEtl({ records, repeat, log: (line) => ctx.say(line) });
    return markdown(r, m);
  },
};

export function markdown(r: EtlBenchResult, m: string): string {
  const row = (name: string, x: EtlBenchResult['duckdb']) => `| ${name} | ${fmt(x.ms / 1000, 1)} s | ${fmt(x.rowsPerS)} | ${fmt(x.peakRssMb)} MB |`;
  return [
    `${fmt(r.records)} simulated staged records (1,000 symbols × ${fmt(Math.ceil(r.records / 1000))} consecutive days from 1995-01-02, so ${fmt(Math.ceil(r.records / 1000 / 365.25))} year partitions; gzip JSON lines in objects of 50,000) merged into an empty lake, each engine in its own process on its own copy of the same files (no S3 in between), ${r.repeat === 1 ? 'one run each' : `median of ${r.repeat}`}. Wall time includes process start (Node + DuckDB; JVM + Python for Spark). Peak RSS is the sum over the process tree, sampled every 250 ms.`,
    '',
    `Machine: ${m}.`,
    '',
    '| engine | wall time | rows/s | peak RSS |',
    '|---|---|---|---|',
    row(`local ETL (DuckDB executor, 2 threads, memory_limit ${MEMORY_MB} MB)`, r.duckdb),
    row(`glue/etl_job.py on pyspark 3.5.4 local[2], driver memory ${SPARK_MEMORY_MB} MB`, r.spark),
    '',
    `Ratio (DuckDB rows/s ÷ Spark rows/s): **${r.ratio}×**. Staging the data took ${fmt(r.stageMs / 1000, 1)} s (not counted). Load average at the end: ${(os.loadavg()[0] ?? 0).toFixed(1)}.`,
    '',
    `Spark gets ${SPARK_MEMORY_MB} MB because in local mode one JVM is driver and executor: with ${MEMORY_MB} MB it ran out of memory (exit 52) at 10,000,000 records. Both engines run the same spec (glue/tables/) and the tests require identical lakes from them (test/integration/etl.test.ts).`,
    '',
    'Command: `node dist/test/bench/main.js --only etl` (size: `KAFKALAKE_BENCH_ETL_RECORDS`, repeats: `KAFKALAKE_BENCH_ETL_REPEAT`; `--quick`: 100,000 records).',
  ].join('\n');
}

async function worker(root: string, memoryMb: number): Promise<void> {
  const log = createLogger({ daemon: 'bench-etl', level: 'warn', stream: process.stderr });
  const etl = createLocalEtl({ store: dirStore(root), specs: loadSpecs(path.join(PROJECT_ROOT, 'glue/tables')), job: JOB, log, memoryMb, threads: 2, lockTtlMs: 3_600_000, workDir: root });
  const r = await etl.run();
  process.stdout.write(`${JSON.stringify(r.tables.map((t) => ({ rows: t.rowsRead, files: t.files })))}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { worker: { type: 'string' }, 'memory-mb': { type: 'string' }, quick: { type: 'boolean' }, records: { type: 'string' }, repeat: { type: 'string' } } });
  const main = values.worker
    ? worker(values.worker, Number(values['memory-mb'] ?? MEMORY_MB))
    : (async () => {
        const m = machine();
        const r = await benchEtl({ records: Number(values.records ?? (values.quick ? 100_000 : 10_000_000)), repeat: Number(values.repeat ?? 1) });
        process.stdout.write(`${JSON.stringify(r)}\n\n${markdown(r, m)}\n`);
      })();
  main.catch((err: unknown) => {
    process.stderr.write(`etl bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
