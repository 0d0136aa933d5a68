// Readers never see a half state (issue 18, protocol v3): `kafkalake query` runs in a loop, counting the
// lake's rows and distinct business keys through the catalog, while `kafkalake run etl` and `kafkalake
// run compact` write the lake — appends, late records and a replay of every key (copy-on-write), and
// compactions — and are SIGKILLed at random moments. No answer may show a key twice, and none may count
// fewer rows than an earlier answer already saw. At the end the lake is exactly the staged keys.
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { glueCatalog } from '../../daemons/lib/catalog/glue-catalog.js';
import { s3Store } from '../../daemons/lib/etl/store.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { csvRecords, nextDay, stager, today } from './etl-staging.js';

const run = promisify(execFile);
const CLI = path.join(PROJECT_ROOT, 'dist/daemons/cli/main.js');
const JOB = 'kafkalake-etl';
let stack: TestStack;

test.before(async () => {
  stack = await startTestStack();
});
test.after.always(async () => {
  await stack?.stop();
});

/** `kafkalake run <job>`, SIGKILLed `killAfterMs` after it took the lock (or run to the end: undefined). */
async function runJob(configFile: string, job: 'etl' | 'compact', holds: (pid: number) => Promise<boolean>, killAfterMs?: number): Promise<'killed' | 'done'> {
  const child = spawn(process.execPath, [CLI, 'run', job, '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let exited = false;
  void done.then(() => (exited = true));
  if (killAfterMs !== undefined) {
    while (!exited && !(await holds(child.pid!))) await sleep(25);
    const finished = exited || (await Promise.race([done.then(() => true), sleep(killAfterMs).then(() => false)]));
    if (!finished && child.kill('SIGKILL')) {
      await done;
      return 'killed';
    }
  }
  const code = await done;
  if (code !== 0) throw new Error(`kafkalake run ${job} exited ${code}: ${stderr.trim().split('\n').pop() ?? ''}`);
  return 'done';
}

test('queries in a loop while ETL runs and compactions are killed and rerun: never a key twice, never fewer rows than seen', async (t) => {
  const bucket = await stack.bucket();
  const configFile = stack.configFile({ aws: { bucket }, metrics: { enabled: false }, compact: { maxFiles: 2 } });
  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  const store = s3Store(aws.s3, bucket);
  const holds = async (pid: number) => {
    const lock = await store.get(`_state/${JOB}.lock`);
    return lock !== undefined && (JSON.parse(lock.body.toString('utf8')) as { pid: number }).pid === pid;
  };
  try {
    const st = stager(store, 'stock_market_data', { partitions: 6, perObject: 5_000 });
    const records = csvRecords();
    // the first chunk is merged before the readers start, so the table and its partitions exist
    const chunks = 6;
    const size = Math.ceil(records.length / chunks);
    await st.stage(records.slice(0, size), { dt: today() });
    await runJob(configFile, 'etl', holds);

    // per year: rows and distinct keys; a problem names the partition and the generation readers saw
    const catalog = glueCatalog(aws.glue, 'kafkalake');
    const where = async (year: string) => (await catalog.getPartition('stock_market_data', [year]))?.StorageDescriptor?.Location?.replace(`s3://${bucket}/datalake/stock_market_data/`, '');
    const seen: { n: number; k: number }[] = [];
    const most = new Map<string, number>();
    const problems: string[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const r = await run(process.execPath, [CLI, 'query', `SELECT year, count(*) AS n, count(DISTINCT "index" || '/' || CAST(trade_date AS varchar)) AS k FROM stock_market_data GROUP BY year`, '--format', 'json', '--config', configFile], { timeout: 120_000 });
        const rows = JSON.parse(r.stdout) as { year: string; n: string; k: string }[];
        const total = { n: 0, k: 0 };
        for (const y of rows) {
          const a = { n: Number(y.n), k: Number(y.k) };
          total.n += a.n;
          total.k += a.k;
          if (a.n !== a.k) problems.push(`year ${y.year}: ${a.n} rows but ${a.k} keys (now at ${await where(y.year)})`);
          if (a.n < (most.get(y.year) ?? 0)) problems.push(`year ${y.year}: ${a.n} rows after ${most.get(y.year)} were seen (now at ${await where(y.year)})`);
          most.set(y.year, Math.max(a.n, most.get(y.year) ?? 0));
        }
        for (const [year, n] of most) if (!rows.some((y) => y.year === year)) problems.push(`year ${year}: gone after ${n} rows were seen`);
        seen.push(total);
      }
    })();

    let kills = 0;
    const steps: string[] = [];
    // the other chunks, odd ones reversed (late rows for partitions already written), then a replay of
    // every key with later offsets (each partition copied-on-write); each step an ETL run and a
    // compaction, either killed at a random moment (then run again to the end) or not
    const batches = [...Array.from({ length: chunks - 1 }, (_, i) => records.slice((i + 1) * size, (i + 2) * size)), records];
    for (const [i, batch] of batches.entries()) {
      await st.stage(i % 2 ? [...batch].reverse() : batch, { dt: i === batches.length - 1 ? nextDay(today()) : today() });
      for (const job of ['etl', 'compact'] as const) {
        if (Math.random() < 0.6 && (await runJob(configFile, job, holds, Math.floor(Math.random() * 1500))) === 'killed') {
          kills++;
          steps.push(`${job} killed`);
        }
        await runJob(configFile, job, holds);
        steps.push(job);
      }
    }
    reading = false;
    await reader;
    t.log(`${seen.length} queries while ${steps.length} runs went on (${kills} SIGKILLed): ${seen.map((s) => s.n).join(' ')}`);
    t.deepEqual(problems, []);
    t.true(seen.length >= 5, 'the reader queried while the writers worked');
    t.true(kills >= 1, 'at least one run was killed while it held the lock');
    // at the end: exactly the CSV's keys
    const r = await run(process.execPath, [CLI, 'query', `SELECT count(*) AS n, count(DISTINCT "index" || '/' || CAST(trade_date AS varchar)) AS k FROM stock_market_data`, '--format', 'json', '--config', configFile]);
    const [row] = JSON.parse(r.stdout) as { n: string; k: string }[];
    t.deepEqual({ n: Number(row?.n), k: Number(row?.k) }, { n: 104_224, k: 104_224 });
  } finally {
    aws.destroy();
  }
});
