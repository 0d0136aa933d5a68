// The ETL end to end on the twin: the stock CSV replayed into staging (plus duplicates, a late record,
// a bad value) merged by `kafkalake run etl` (the DuckDB executor), checked against the CSV, and the
// same staging run through glue/etl_job.py under real pyspark 3.5 (local mode, file paths), which
// must give the identical lake: same rows, same types, same partitions and files, same DLQ.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import test, { type ExecutionContext } from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { acquireLock } from '../../daemons/lib/etl/state.js';
import { loadSpecs } from '../../daemons/lib/etl/spec.js';
import { dirStore, type ObjectStore, s3Store } from '../../daemons/lib/etl/store.js';
import { createLogger } from '../../daemons/lib/log.js';
import { createLocalEtl, type EtlRunReport } from '../../daemons/local/etl/executor.js';
import { describeEtl } from '../../daemons/jobs/etl.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { copyPrefix, currentFiles, duck, lakeScan, manifests, runSparkJob, SPEC_FILE } from './etl-helpers.js';
import { CSV, csvRecords, nextDay, type Stager, stager, today } from './etl-staging.js';
import { envelopeOf, envelopeTail, toLine } from '../../daemons/consumer/records.js';
import { oddRecords } from '../helpers/odd-records.js';

const run = promisify(execFile);
const quiet = createLogger({ daemon: 'test', level: 'error', stream: process.stderr });
const CLI = path.join(PROJECT_ROOT, 'dist/daemons/cli/main.js');
const TOPIC = 'stock_market_data';
const JOB = 'kafkalake-etl';

let stack: TestStack;
let store: ObjectStore;
let configFile: string;
let st: Stager;
let aws: ReturnType<typeof createAwsClients>;
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-etl-test-'));
  dirs.push(d);
  return d;
};
const sparkDir = () => dirs[0]!;
/** the CLI's failure line (node may print its own warnings before it) */
const lastLine = (stderr: string) => stderr.trim().split('\n').pop() ?? '';

async function etl(args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, 'run', 'etl', '--config', configFile, ...args], { timeout: 240_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The twin's lake (and DLQ) copied to a fresh directory. */
async function localCopy(): Promise<string> {
  const d = tmp();
  await copyPrefix(store, d, 'datalake/');
  await copyPrefix(store, d, '_state/lake/');
  await copyPrefix(store, d, 'staging/_dlq/');
  return d;
}

/** The current files (by the manifests), relative to the table folder: partition, generation, name. */
const listLake = (dir: string) => currentFiles(dir).map((f) => path.relative(path.join(dir, 'datalake', TOPIC), f));

/**
 * Both lakes hold the same rows with the same types; with `files`, also the same current files (names
 * are the protocol's, deterministic from the input) holding the same rows each.
 */
async function assertSameLake(t: ExecutionContext, a: string, b: string, opts: { files: boolean } = { files: true }): Promise<void> {
  const db = await duck();
  try {
    if (opts.files) t.deepEqual(listLake(a), listLake(b), 'same partitions, generations and file names');
    t.deepEqual(await db.rows(`DESCRIBE SELECT * FROM ${lakeScan(a)}`), await db.rows(`DESCRIBE SELECT * FROM ${lakeScan(b)}`), 'same column names and types');
    const [ca] = await db.rows(`SELECT count(*)::INT AS n FROM ${lakeScan(a)}`);
    const [cb] = await db.rows(`SELECT count(*)::INT AS n FROM ${lakeScan(b)}`);
    t.is(ca!.n, cb!.n, 'same row count');
    const [d1] = await db.rows(`SELECT count(*)::INT AS n FROM (SELECT * FROM ${lakeScan(a)} EXCEPT ALL SELECT * FROM ${lakeScan(b)})`);
    const [d2] = await db.rows(`SELECT count(*)::INT AS n FROM (SELECT * FROM ${lakeScan(b)} EXCEPT ALL SELECT * FROM ${lakeScan(a)})`);
    t.is(d1!.n, 0, 'no row of the first lake missing from the second');
    t.is(d2!.n, 0, 'no row of the second lake missing from the first');
    if (!opts.files) return;
    // each file holds exactly the same rows in both
    const perFile = (d: string) =>
      db.rows(`SELECT regexp_extract(filename, 'year=[0-9]+/(_v[0-9]+/)?part-[0-9a-f]+-[0-9]+', 0) AS f, count(*)::INT AS n FROM ${lakeScan(d).replace(')', ', filename = true)')} GROUP BY 1 ORDER BY 1`);
    t.deepEqual(await perFile(a), await perFile(b), 'same rows per file');
  } finally {
    db.close();
  }
}

const dlqLines = (dir: string) => {
  const root = path.join(dir, 'staging', '_dlq');
  let files: string[] = [];
  try {
    files = readdirSync(root, { recursive: true }).map(String).filter((f) => f.endsWith('.gz')).sort();
  } catch {
    return [];
  }
  return files.flatMap((f) => gunzipSync(readFileSync(path.join(root, f))).toString('utf8').trim().split('\n').map((l) => `${f} ${l}`));
};

test.before(async () => {
  stack = await startTestStack();
  const bucket = await stack.bucket();
  configFile = stack.configFile({ aws: { bucket }, etl: { jobName: JOB } });
  aws = createAwsClients(stack.config({ aws: { bucket } }));
  store = s3Store(aws.s3, bucket);
  st = stager(store, TOPIC, { partitions: 6, perObject: 20_000 });
  tmp(); // dirs[0]: the Spark job's bucket directory
});

test.after.always(async () => {
  aws?.destroy();
  await stack?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test.serial('the CSV replay (with re-staged duplicates) becomes exactly the 104,224 CSV rows, typed, and pyspark agrees', async (t) => {
  const keys = await st.stage(csvRecords(), { dt: today() });
  t.true(keys.length >= 6);
  // a consumer that crashed after its PUT and before its commit would stage the same offsets again:
  // here one object's lines again under the next day's dt (same envelope, so the same rows)
  const first = await store.get(keys[0]!);
  await store.put(keys[0]!.replace(`dt=${today()}`, `dt=${nextDay(today())}`), first!.body);

  const r = await etl();
  t.is(r.code, 0, r.stderr);
  t.log(r.stdout.trim());
  t.regex(r.stdout, /etl stock_market_data: \d+ staging objects, \d+ rows read, 0 rejected; /);
  t.regex(r.stdout, /57 partitions: 57 appended, 0 rewritten \(57 files, 104224 rows written; 0 files read, 0 copied\)/);
  const lake = await localCopy();

  const db = await duck();
  try {
    const csv = `(SELECT "Index" AS "index", "Date"::DATE AS trade_date, "Open"::DOUBLE AS open, "High"::DOUBLE AS high, "Low"::DOUBLE AS low,
      "Close"::DOUBLE AS close, "Adj Close"::DOUBLE AS adj_close, "Volume"::DOUBLE::BIGINT AS volume, "CloseUSD"::DOUBLE AS close_usd
      FROM read_csv('${CSV}', header = true, all_varchar = true))`;
    const cols = 'index, trade_date, open, high, low, close, adj_close, volume, close_usd';
    const [n] = await db.rows(`SELECT count(*)::INT AS n, count(DISTINCT (_topic, _partition, _offset))::INT AS env FROM ${lakeScan(lake)}`);
    t.is(n!.n, 104_224);
    t.is(n!.env, 104_224, 'one row per Kafka message');
    const [d] = await db.rows(`SELECT (SELECT count(*) FROM (SELECT ${cols} FROM ${lakeScan(lake)} EXCEPT ALL SELECT ${cols} FROM ${csv}))::INT AS a,
      (SELECT count(*) FROM (SELECT ${cols} FROM ${csv} EXCEPT ALL SELECT ${cols} FROM ${lakeScan(lake)}))::INT AS b`);
    t.deepEqual(d, { a: 0, b: 0 }, 'the lake equals the CSV after normalisation');
    const types: Record<string, unknown> = Object.fromEntries((await db.rows(`DESCRIBE SELECT * FROM ${lakeScan(lake)}`)).map((r) => [String(r.column_name), r.column_type]));
    t.like(types, { index: 'VARCHAR', trade_date: 'DATE', open: 'DOUBLE', close: 'DOUBLE', adj_close: 'DOUBLE', close_usd: 'DOUBLE', volume: 'BIGINT', _offset: 'BIGINT', _timestamp: 'TIMESTAMP WITH TIME ZONE' });
    const [y] = await db.rows(`SELECT min(year)::INT AS lo, max(year)::INT AS hi, count(DISTINCT year)::INT AS n, bool_and(year = year(trade_date)) AS ok FROM ${lakeScan(lake)}`);
    t.deepEqual(y, { lo: 1965, hi: 2021, n: 57, ok: true });
  } finally {
    db.close();
  }

  // the same staging through the Glue script under pyspark
  await copyPrefix(store, sparkDir(), 'staging/');
  const s = await runSparkJob(sparkDir(), JOB);
  t.is(s.code, 0, s.stderr);
  await assertSameLake(t, lake, sparkDir());
});

test.serial('a late record rewrites its old partition, duplicates collapse, a bad value goes to the DLQ with its reason; pyspark agrees', async (t) => {
  // late: a correction of NYA 1970-01-02 (a later offset wins) and a new key in 1966
  await st.stage(
    [
      { ...csvRecords().find((r) => r.index === 'NYA' && r.date === '1970-01-02')!, close: 1234.5 },
      { index: 'LATE', date: '1966-06-01', open: 1, high: 2, low: 0.5, close: 1.5, adj_close: 1.5, volume: 7, close_usd: 1.5, event_time: '2026-11-22T10:00:00Z' },
    ],
    { dt: nextDay(today()) },
  );
  const p = 3;
  const env = (o: number) => `"_topic":"${TOPIC}","_partition":${p},"_offset":${o},"_timestamp":"2026-11-22T10:00:00.000Z","_key":"NYA"`;
  const o = st.next[p]!;
  st.next[p] = o + 3;
  const badKey = await st.stageLines(
    p,
    o,
    [
      `{"index":"NYA","date":"1971-03-04","open":"abc","high":1,"low":1,"close":1,"adj_close":1,"volume":0,"close_usd":1,"event_time":null,${env(o)}}`,
      `{"index":"NYA","date":"1971-03-05","open":1,"high":1,"low":1,"close":1,"adj_close":1,"volume":0,"close_usd":1,${env(o + 1)}`,
      `{"index":"NYA","date":"1971-03-06","open":1,"high":1,"low":1,"close":1,"adj_close":1,"volume":0,"close_usd":1,"event_time":"2026-11-22T10:00:00Z",${env(o + 2)}}`,
    ],
    nextDay(today()),
  );

  const json = await etl(['--json']);
  t.is(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout) as EtlRunReport;
  const r = { ...json, stdout: describeEtl(report).join('\n') }; // what the run prints without --json
  t.log(r.stdout.trim());
  // LATE 1966 is outside the key range of 1966's file: appended, no file read; the correction (1970) is
  // in its file: rewritten; the new NYA date of 1971 is within its file's ranges, but the file's keys,
  // probed, do not hold it: appended, not rewritten
  t.regex(r.stdout, /, 2 rejected \(DLQ: 1 objects\); 3 partitions: 2 appended, 1 rewritten \(3 files, \d+ rows written; 1 files read, 0 copied; the keys of 2 files probed\)/);
  const lake = await localCopy();
  const db = await duck();
  try {
    const [n] = await db.rows(`SELECT count(*)::INT AS n FROM ${lakeScan(lake)}`);
    t.is(n!.n, 104_224 + 2, 'the new key LATE and the good row of the mixed object were added, the correction replaced its row');
    const nya = await db.rows(`SELECT close, _offset::INT AS o FROM ${lakeScan(lake)} WHERE index = 'NYA' AND trade_date = DATE '1970-01-02'`);
    t.is(nya.length, 1);
    t.is(nya[0]!.close, 1234.5);
    // send → lake: the oldest send time of the three rows the run put into the lake, and its commit after it
    const [oldest] = await db.rows(`SELECT epoch_ms(min(_timestamp))::DOUBLE AS ms FROM ${lakeScan(lake)}
      WHERE index = 'LATE' OR (index = 'NYA' AND trade_date IN (DATE '1970-01-02', DATE '1971-03-06'))`);
    t.is(report.tables[0]?.oldestSentAtMs, Number(oldest!.ms));
    t.true((report.tables[0]?.committedAtMs ?? 0) > Number(oldest!.ms) && (report.tables[0]?.committedAtMs ?? Infinity) <= Date.now());
  } finally {
    db.close();
  }
  const dlq = dlqLines(lake);
  t.is(dlq.length, 2);
  t.true(dlq[0]!.includes(path.basename(badKey).replace('.jsonl.gz', '.etl.jsonl.gz')));
  t.regex(dlq[0]!, /"reason":"field \\"open\\" is not a double".*"_offset":\d+,"raw":/);
  t.regex(dlq[1]!, /"reason":"not a JSON object"/);

  // nothing new: nothing rewritten
  const again = await etl();
  t.is(again.code, 0, again.stderr);
  t.regex(again.stdout, /etl stock_market_data: nothing new to merge/);

  // pyspark incrementally (it merged batch 1 already)
  await copyPrefix(store, sparkDir(), 'staging/');
  rmSync(path.join(sparkDir(), 'staging', '_dlq'), { recursive: true, force: true });
  // the `<dir>_$folder$` objects EMRFS leaves (an older job called mkdirs on s3://) are no data to the job
  const markers = [`staging/${TOPIC}_$folder$`, `staging/${TOPIC}/dt=${nextDay(today())}_$folder$`, `datalake/${TOPIC}_$folder$`, `datalake/${TOPIC}/year=1970_$folder$`];
  for (const m of markers) writeFileSync(path.join(sparkDir(), m), '');
  const s = await runSparkJob(sparkDir(), JOB);
  t.is(s.code, 0, s.stderr);
  t.is(s.report?.tables[0]?.objects, Number(/: (\d+) staging objects/.exec(r.stdout)?.[1]), 'the staging objects DuckDB merged, no marker');
  t.is(s.report?.tables[0]?.rowsRejected, 2);
  t.is(s.report?.tables[0]?.oldestSentAtMs, report.tables[0]?.oldestSentAtMs, 'the same oldest send time');
  // the runner reads the run's report from the bucket (a Glue run's stdout goes to CloudWatch Logs)
  t.deepEqual((JSON.parse(readFileSync(path.join(sparkDir(), `_state/${JOB}.last-etl.json`), 'utf8')) as { tables: unknown }).tables, s.report?.tables);
  await assertSameLake(t, lake, sparkDir());
  t.deepEqual(dlqLines(sparkDir()), dlq, 'the same DLQ records');

  // incremental equals all at once: the DuckDB executor on a fresh copy of all staging, in one run
  const full = tmp();
  await copyPrefix(store, full, 'staging/stock_market_data/');
  const once = await createLocalEtl({ store: dirStore(full), specs: loadSpecs(path.join(PROJECT_ROOT, 'glue/tables')), job: JOB, log: quiet, memoryMb: 512, threads: 2, lockTtlMs: 60_000 }).run();
  t.is(once.tables[0]?.rowsRejected, 2);
  await assertSameLake(t, lake, full, { files: false });
});

test.serial('a replay of every key, new dates, a run killed mid-way and rerun, then a compaction: both executors leave the same lake and manifests', async (t) => {
  // every key of the CSV again with later offsets (a replayed topic), and two new trade dates in 2021
  const csv = csvRecords();
  const last = csv.filter((r) => String(r.date).startsWith('2021')).map((r) => String(r.date)).sort().pop()!;
  const fresh = ['NYA', 'HSI'].map((index) => ({ ...csv.find((r) => r.index === index)!, date: nextDay(last), close: 99 }));
  await st.stage([...csv, ...fresh], { dt: nextDay(nextDay(today())) });
  const r = await etl();
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /57 partitions: 0 appended, 57 rewritten/);

  // the Glue script: killed at a random moment of its run, then run to the end
  await copyPrefix(store, sparkDir(), 'staging/stock_market_data/');
  const killed = await runSparkJob(sparkDir(), JOB, { timeoutMs: 12_000 + Math.floor(Math.random() * 20_000) });
  t.log(killed.code === null ? `the Spark run was SIGKILLed after ${(killed.ms / 1000).toFixed(1)} s` : `the Spark run ended before its kill (${killed.code})`);
  const s = await runSparkJob(sparkDir(), JOB);
  t.is(s.code, 0, s.stderr);
  const lake = await localCopy();
  await assertSameLake(t, lake, sparkDir());
  t.deepEqual(manifests(sparkDir()), manifests(lake), 'the same manifests: locations, generations, files, key ranges');

  // compaction: every partition holds one file but 1971 (its file and the new NYA date appended beside
  // it, earlier) and 2021 (the rewritten one and the appended one), all small: those two are compacted,
  // the same in both
  const c = await run(process.execPath, [CLI, 'run', 'compact', '--config', configFile], { timeout: 240_000 });
  t.regex(c.stdout, /compact stock_market_data: 2 partitions compacted \(4 files read, 0 copied, 2 written, \d+ rows\)/);
  const sc = await runSparkJob(sparkDir(), JOB, { args: ['--kafkalake_action', 'compact'] });
  t.is(sc.code, 0, sc.stderr);
  const compacted = await localCopy();
  await assertSameLake(t, compacted, sparkDir());
  t.deepEqual(manifests(sparkDir()), manifests(compacted), 'the same manifests after the compaction');
});

test.serial('bin-pack compaction: the small files are merged, the full ones copied as they are; pyspark agrees', async (t) => {
  // the stock spec with files of at most 1,000 rows, so one year's rows make full files and small ones
  const specDir = tmp();
  const raw = JSON.parse(readFileSync(SPEC_FILE, 'utf8')) as { target: { maxRowsPerFile: number } };
  raw.target.maxRowsPerFile = 1000;
  const specFile = path.join(specDir, 'stock_market_data.json');
  writeFileSync(specFile, JSON.stringify(raw));
  const a = tmp();
  const b = tmp();
  const storeA = dirStore(a);
  const sa = stager(storeA, TOPIC, { partitions: 6, perObject: 20_000 });
  const local = createLocalEtl({ store: storeA, specs: loadSpecs(specDir), job: JOB, log: quiet, memoryMb: 512, threads: 2, lockTtlMs: 60_000 });
  // three ETL runs on 2019 in trade-date order: 2,500 rows (1,000 + 1,000 + 500), then 200, then 200
  const year = csvRecords()
    .filter((r) => String(r.date).startsWith('2019'))
    .sort((x, y) => String(x.date).localeCompare(String(y.date)) || String(x.index).localeCompare(String(y.index)));
  t.true(year.length >= 2900, `2019 has ${year.length} rows`);
  for (const batch of [year.slice(0, 2500), year.slice(2500, 2700), year.slice(2700, 2900)]) {
    await sa.stage(batch);
    await local.run();
    await copyPrefix(storeA, b, 'staging/');
    const s = await runSparkJob(b, JOB, { specFile });
    t.is(s.code, 0, s.stderr);
  }
  const fileRows = (dir: string) => (manifests(dir)['year=2019.json'] as { files: { name: string; rows: number }[] }).files;
  const before = fileRows(a);
  t.deepEqual(before.map((f) => f.rows).sort((x, y) => x - y), [200, 200, 500, 1000, 1000]);
  t.deepEqual(manifests(b), manifests(a), 'the same manifests before the compaction');

  // small: below 750 rows (three files); tiny: below 250 (two): due, though 5 files are not more than 8
  const c = await local.compact(8);
  t.like(c.tables[0], { partitions: ['year=2019'], filesRead: 3, filesCopied: 2, filesWritten: 1, rowsWritten: 900 });
  const sc = await runSparkJob(b, JOB, { specFile, args: ['--kafkalake_action', 'compact'] });
  t.is(sc.code, 0, sc.stderr);
  const after = fileRows(a);
  t.deepEqual(after.map((f) => f.rows).sort((x, y) => x - y), [900, 1000, 1000]);
  t.deepEqual(
    after.filter((f) => f.rows === 1000).map((f) => f.name),
    before.filter((f) => f.rows === 1000).map((f) => f.name),
    'the full files are the same files, copied into the new generation',
  );
  await assertSameLake(t, a, b);
  t.deepEqual(manifests(b), manifests(a), 'the same manifests after the compaction');
  // nothing is due any more
  t.deepEqual((await local.compact(8)).tables[0]?.partitions, []);
});

test.serial('odd records: both executors accept, refuse and read each alike, with the reasons glue/README.md gives', async (t) => {
  const a = tmp();
  const b = tmp();
  const storeA = dirStore(a);
  // staged as the consumer stages them; what it refuses, staged as an older consumer might have
  const odd = oddRecords().filter((r) => r.etl !== undefined);
  const lines = odd.map((r, i) => {
    const m = { key: Buffer.from('ODD'), value: r.value, offset: String(i), timestamp: '1764000000000' };
    const staged = toLine(TOPIC, 0, m, 1 << 20);
    if (staged.ok) return staged.line;
    const text = r.value!.toString('utf8');
    return text.startsWith('{') && text.endsWith('}') ? `${text.slice(0, -1)},${envelopeTail(envelopeOf(TOPIC, 0, m))}}` : text;
  });
  t.deepEqual(
    odd.map((r, i) => toLine(TOPIC, 0, { key: null, value: r.value, offset: String(i), timestamp: '0' }, 1 << 20).ok),
    odd.map((r) => r.consumer === null),
    'the consumer stages exactly the records glue/README.md says it stages',
  );
  await stager(storeA, TOPIC).stageLines(0, 0, lines, today());
  const r = await createLocalEtl({ store: storeA, specs: loadSpecs(path.join(PROJECT_ROOT, 'glue/tables')), job: JOB, log: quiet, memoryMb: 512, threads: 2, lockTtlMs: 60_000 }).run();
  await copyPrefix(storeA, b, 'staging/');
  rmSync(path.join(b, 'staging', '_dlq'), { recursive: true, force: true });
  const s = await runSparkJob(b, JOB);
  t.is(s.code, 0, s.stderr);

  const expected = odd.filter((x) => x.etl !== null).map((x) => x.etl!).sort();
  t.like(r.tables[0], { rowsRead: odd.length, rowsRejected: expected.length });
  t.is(s.report?.tables[0]?.rowsRejected, expected.length);
  const reasons = (dir: string) => dlqLines(dir).map((l) => (JSON.parse(l.slice(l.indexOf(' ') + 1)) as { reason: string }).reason).sort();
  t.deepEqual(reasons(a), expected, 'the DuckDB executor refuses each with its reason');
  t.deepEqual(dlqLines(b), dlqLines(a), 'Spark: the same dead letters, byte for byte');
  await assertSameLake(t, a, b);
  const db = await duck();
  try {
    const rows = await db.rows(`SELECT index, trade_date::VARCHAR AS d, volume::INT AS volume, epoch_ms(event_time)::BIGINT AS et FROM ${lakeScan(a)} ORDER BY trade_date`);
    t.is(rows.length, odd.filter((x) => x.etl === null).length, 'a row for each record the README says is read');
    const byDay = (n: number) => rows.find((x) => x.d === new Date(Date.UTC(1980, 0, 1 + n)).toISOString().slice(0, 10));
    t.like(byDay(14), { index: 'ODD' }, 'the BOM is gone');
    t.like(byDay(15), { index: 'NYÄ東' });
    t.like(byDay(16), { index: 'é\n"q/' });
    t.like(byDay(24), { volume: -5 });
    t.like(byDay(26), { volume: 100 });
    t.like(byDay(32), { et: '1700000000000' }, 'epoch milliseconds');
  } finally {
    db.close();
  }
});

test.serial('a second run while one holds the lock is refused in one line; a dead holder on this host is taken over', async (t) => {
  const lock = await acquireLock(store, JOB, 60_000);
  const r = await etl();
  t.is(r.code, 1);
  t.regex(lastLine(r.stderr), /^kafkalake: another ETL run holds the lock s3:\/\/\S+\/_state\/kafkalake-etl\.lock \(.+\) until \d{4}-\S+$/);
  await lock.release();
  // a lock left by a process that no longer exists (a SIGKILLed run) does not block
  const dead = { owner: `${os.hostname()}:999999`, host: os.hostname(), pid: 999_999, runId: 'x', acquiredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 3_600_000).toISOString() };
  await store.put(`_state/${JOB}.lock`, Buffer.from(JSON.stringify(dead)));
  const r2 = await etl();
  t.is(r2.code, 0, r2.stderr);
  t.is(await store.get(`_state/${JOB}.lock`), undefined, 'the lock is released after the run');
});

test.serial('a broken spec fails in one line naming the file', async (t) => {
  const d = tmp();
  const spec = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'glue/tables/stock_market_data.json'), 'utf8')) as Record<string, unknown>;
  spec.partitionBy = ['nope'];
  writeFileSync(path.join(d, 'bad.json'), JSON.stringify(spec));
  const cfg = stack.configFile({ aws: { bucket: store.root.slice('s3://'.length, -1) }, etl: { jobName: JOB, specDir: d } });
  const r = await run(process.execPath, [CLI, 'run', 'etl', '--config', cfg]).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => e,
  );
  t.is(r.code, 1);
  t.is(lastLine(r.stderr), `kafkalake: invalid ETL spec ${path.join(d, 'bad.json')}: partitionBy nope must be a derived column (a function of the business key)`);
});
