// Crash test of the local ETL: `kafkalake run etl` (a child process, DuckDB on the twin) SIGKILLed at
// random moments while it merges, ten times, with new staging objects (and re-staged duplicates)
// arriving between runs; then one run to the end. The lake must be exactly the CSV: every row once,
// each partition's current location holding exactly its manifest's files (no stray of a killed run), the bookmark naming every staging object,
// the lock released and no work dir left behind.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { glueCatalog } from '../../daemons/lib/catalog/glue-catalog.js';
import { locationFiles, readManifest } from '../../daemons/lib/etl/lake.js';
import { loadSpecs } from '../../daemons/lib/etl/spec.js';
import { isMerged, parseStagingKey, readBookmark } from '../../daemons/lib/etl/state.js';
import { s3Store } from '../../daemons/lib/etl/store.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { copyPrefix, duck, lakeScan } from './etl-helpers.js';
import { CSV, csvRecords, stager } from './etl-staging.js';

const CLI = path.join(PROJECT_ROOT, 'dist/daemons/cli/main.js');
const JOB = 'kafkalake-etl';
const spec = loadSpecs(path.join(PROJECT_ROOT, 'glue/tables'))[0]!;
let stack: TestStack;
const dirs: string[] = [];

test.before(async () => {
  stack = await startTestStack();
});
test.after.always(async () => {
  await stack?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function runEtl(configFile: string): { pid: number; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>; kill(): boolean } {
  const child = spawn(process.execPath, [CLI, 'run', 'etl', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
  return {
    pid: child.pid!,
    done,
    kill() {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      return child.kill('SIGKILL');
    },
  };
}

test('SIGKILLed 10 times at random moments while merging, rerun each time: the lake is exact', async (t) => {
  const bucket = await stack.bucket();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-etl-crash-'));
  dirs.push(workDir);
  const configFile = stack.configFile({ aws: { bucket }, etl: { jobName: JOB, workDir } });
  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  const store = s3Store(aws.s3, bucket);
  try {
    const st = stager(store, 'stock_market_data', { partitions: 6, perObject: 5_000 });
    const records = csvRecords();
    const chunks = 8;
    const size = Math.ceil(records.length / chunks);
    let staged = 0;
    let kills = 0;
    const delays: number[] = [];
    for (let attempt = 0; kills < 10 && attempt < 30; attempt++) {
      if (staged < chunks) {
        // every other chunk in reverse index order, so late rows land in partitions already written
        const part = records.slice(staged * size, (staged + 1) * size);
        await st.stage(staged % 2 ? part.reverse() : part, { dt: `2026-11-${String(21 + staged).padStart(2, '0')}` });
        staged++;
      } else {
        // re-staged duplicates: an already merged object's lines again under a new name
        const any = (await store.list('staging/stock_market_data/'))[attempt % 5]!;
        await store.put(any.key.replace(/dt=[^/]+/, `dt=2026-12-${String(attempt).padStart(2, '0')}`), (await store.get(any.key))!.body);
      }
      // wait until the run holds the lock (it is working: node and the config load take a while on a
      // busy machine), then kill it at a random moment of its work
      const proc = runEtl(configFile);
      let exited = false;
      void proc.done.then(() => (exited = true));
      const holds = async () => {
        const lock = await store.get(`_state/${JOB}.lock`);
        return lock !== undefined && (JSON.parse(lock.body.toString('utf8')) as { pid: number }).pid === proc.pid;
      };
      while (!exited && !(await holds())) await sleep(25);
      const delay = Math.floor(Math.random() * 1500);
      const finished = exited || (await Promise.race([proc.done.then(() => true), sleep(delay).then(() => false)]));
      if (!finished && proc.kill()) {
        const r = await proc.done;
        t.is(r.signal, 'SIGKILL');
        kills++;
        delays.push(delay);
      } else {
        const r = await proc.done;
        t.is(r.code, 0, r.stderr);
      }
    }
    t.log(`SIGKILL ${delays.join(', ')} ms after the lock was taken`);
    t.is(kills, 10, 'ten runs were killed while they held the lock and worked');
    t.is(staged, chunks);

    const final = runEtl(configFile);
    const r = await final.done;
    t.is(r.code, 0, r.stderr);

    const lake = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-etl-crash-lake-'));
    dirs.push(lake);
    await copyPrefix(store, lake, 'datalake/');
    await copyPrefix(store, lake, '_state/lake/');
    const db = await duck();
    try {
      const cols = 'index, trade_date, open, high, low, close, adj_close, volume, close_usd';
      const csv = `(SELECT "Index" AS "index", "Date"::DATE AS trade_date, "Open"::DOUBLE AS open, "High"::DOUBLE AS high, "Low"::DOUBLE AS low,
        "Close"::DOUBLE AS close, "Adj Close"::DOUBLE AS adj_close, "Volume"::DOUBLE::BIGINT AS volume, "CloseUSD"::DOUBLE AS close_usd
        FROM read_csv('${CSV}', header = true, all_varchar = true))`;
      const [n] = await db.rows(`SELECT count(*)::INT AS n, count(DISTINCT (_topic, _partition, _offset))::INT AS env FROM ${lakeScan(lake)}`);
      t.deepEqual(n, { n: 104_224, env: 104_224 });
      const [d] = await db.rows(`SELECT (SELECT count(*) FROM (SELECT ${cols} FROM ${lakeScan(lake)} EXCEPT ALL SELECT ${cols} FROM ${csv}))::INT AS a,
        (SELECT count(*) FROM (SELECT ${cols} FROM ${csv} EXCEPT ALL SELECT ${cols} FROM ${lakeScan(lake)}))::INT AS b`);
      t.deepEqual(d, { a: 0, b: 0 }, 'the lake equals the CSV');
    } finally {
      db.close();
    }
    // each partition's current location holds exactly its manifest's files (no stray of a killed run),
    // and the catalog points at it
    const catalog = glueCatalog(aws.glue, 'kafkalake');
    const years = [...new Set(records.map((r) => String(r.date).slice(0, 4)))].sort();
    t.is(years.length, 57);
    for (const year of years) {
      const m = await readManifest(store, spec, { year });
      t.truthy(m, `year ${year} has a manifest`);
      t.deepEqual((await locationFiles(store, m!.location)).map((o) => o.key.slice(m!.location.length)), m!.files.map((f) => f.name), `year ${year}: the location holds the manifest's files`);
      t.is((await catalog.getPartition('stock_market_data', [year]))?.StorageDescriptor?.Location, `s3://${bucket}/${m!.location}`);
    }
    const bookmark = await readBookmark(store, JOB);
    const stagedKeys = (await store.list('staging/stock_market_data/')).map((o) => o.key).sort();
    const mark = bookmark.tables.stock_market_data;
    t.deepEqual(stagedKeys.filter((k) => !isMerged(mark, k)), [], 'the bookmark counts every staging object merged');
    const newest: Record<string, number> = {};
    for (const k of stagedKeys) {
      const n = parseStagingKey(k)!;
      newest[n.tp] = Math.max(newest[n.tp] ?? -1, n.last);
    }
    t.deepEqual(Object.fromEntries(Object.entries(mark?.partitions ?? {}).map(([tp, w]) => [tp, w.last])), newest, 'per partition, the newest offset staged');
    t.is(await store.get(`_state/${JOB}.lock`), undefined, 'the lock is released');
    t.deepEqual(readdirSync(workDir), [], 'the work dirs of killed runs are removed');
  } finally {
    aws.destroy();
  }
});
