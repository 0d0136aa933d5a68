// Protocol v3 of the lake's write path (glue/README.md) through `kafkalake run etl` on the twin, with
// the Glue catalog as the pointer, read back through `kafkalake query` (the catalog's locations):
// a fresh load appends; new trade dates append to their year without reading a file; a late record
// reads only the file whose key range holds it and moves the partition to a new generation; a replay
// of every key leaves one row per key; retired generations are deleted after the retention, never the
// current one.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { glueCatalog } from '../../daemons/lib/catalog/glue-catalog.js';
import { locationFiles, readManifest, readRetired } from '../../daemons/lib/etl/lake.js';
import { loadSpecs } from '../../daemons/lib/etl/spec.js';
import { type ObjectStore, s3Store } from '../../daemons/lib/etl/store.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { csvRecords, nextDay, type Rec, type Stager, stager, today } from './etl-staging.js';

const run = promisify(execFile);
const CLI = path.join(PROJECT_ROOT, 'dist/daemons/cli/main.js');
const TOPIC = 'stock_market_data';
const spec = loadSpecs(path.join(PROJECT_ROOT, 'glue/tables'))[0]!;

let stack: TestStack;
let store: ObjectStore;
let st: Stager;
let aws: ReturnType<typeof createAwsClients>;
let configFile: string;
let bucket: string;
const records = csvRecords();

async function cli(...args: string[]): Promise<string> {
  const r = await run(process.execPath, [CLI, ...args, '--config', configFile], { timeout: 240_000 });
  return r.stdout;
}
async function query(sql: string): Promise<Record<string, unknown>[]> {
  return JSON.parse(await cli('query', sql, '--format', 'json')) as Record<string, unknown>[];
}
const counts = async () => {
  const [r] = await query(`SELECT count(*) AS n, count(DISTINCT "index" || '/' || CAST(trade_date AS varchar)) AS k FROM stock_market_data`);
  return { n: Number(r?.n), k: Number(r?.k) };
};
/** rows of one year as readers see them */
const yearRows = async (year: string) => Number((await query(`SELECT count(*) AS n FROM stock_market_data WHERE year = '${year}'`))[0]?.n);
const location = async (year: string) => (await glueCatalog(aws.glue, 'kafkalake').getPartition(TOPIC, [year]))?.StorageDescriptor?.Location;

test.before(async () => {
  stack = await startTestStack();
  bucket = await stack.bucket();
  configFile = stack.configFile({ aws: { bucket }, etl: { retainMinutes: 0 }, metrics: { enabled: false } });
  aws = createAwsClients(stack.config({ aws: { bucket } }));
  store = s3Store(aws.s3, bucket);
  st = stager(store, TOPIC, { partitions: 6, perObject: 20_000 });
});
test.after.always(async () => {
  aws?.destroy();
  await stack?.stop();
});

test.serial('a fresh load appends every partition and registers it in the catalog', async (t) => {
  await st.stage(records, { dt: today() });
  const out = await cli('run', 'etl');
  t.regex(out, /57 partitions: 57 appended, 0 rewritten \(57 files, 104224 rows written; 0 files read, 0 copied\)/);
  t.deepEqual(await counts(), { n: 104_224, k: 104_224 });
  t.is(await location('2021'), `s3://${bucket}/datalake/${TOPIC}/year=2021/`);
  const m = await readManifest(store, spec, { year: '2021' });
  t.is(m?.generation, 0);
  t.is(m?.files.length, 1);
  t.deepEqual(m?.keyColumns, ['index', 'trade_date']);
});

test.serial('new trade dates append to their year: no file is read', async (t) => {
  const last = records.filter((r) => String(r.date).startsWith('2021')).map((r) => String(r.date)).sort().pop()!;
  const fresh: Rec[] = ['NYA', 'IXIC'].map((index) => ({ ...records.find((r) => r.index === index)!, date: nextDay(last), event_time: `${nextDay(last)}T21:00:00.000Z` }));
  await st.stage(fresh, { dt: today() });
  const out = await cli('run', 'etl');
  t.regex(out, /1 partitions: 1 appended, 0 rewritten \(1 files, 2 rows written; 0 files read, 0 copied\)/);
  t.deepEqual(await counts(), { n: 104_226, k: 104_226 });
  const m = await readManifest(store, spec, { year: '2021' });
  t.is(m?.files.length, 2, 'the appended file beside the first');
  t.is(await location('2021'), `s3://${bucket}/datalake/${TOPIC}/year=2021/`, 'an append moves nothing');
});

test.serial('a new key inside a file’s ranges is appended after its keys are probed: a range is only a bound', async (t) => {
  // NYA on a Sunday of 2021: its index and date both lie within the CSV file's ranges, but the key is not in it
  const sunday = '2021-03-07';
  t.false(records.some((r) => r.index === 'NYA' && r.date === sunday), 'not a key of the CSV');
  await st.stage([{ ...records.find((r) => r.index === 'NYA')!, date: sunday, event_time: `${sunday}T21:00:00.000Z` }], { dt: today() });
  const out = await cli('run', 'etl');
  t.regex(out, /1 partitions: 1 appended, 0 rewritten \(1 files, 1 rows written; 0 files read, 0 copied; the keys of 1 files probed\)/);
  t.deepEqual(await counts(), { n: 104_227, k: 104_227 });
  t.is(await location('2021'), `s3://${bucket}/datalake/${TOPIC}/year=2021/`, 'no new generation');
  t.is((await readManifest(store, spec, { year: '2021' }))?.files.length, 3);
});

test.serial('a late record reads only the file that may hold its key and moves its year to a new generation', async (t) => {
  const old = records.find((r) => r.index === 'NYA' && String(r.date).startsWith('2021-01'))!;
  await st.stage([{ ...old, close: 1.5 }], { dt: nextDay(today()) });
  const out = await cli('run', 'etl');
  // year=2021 holds three files: the CSV's (its key ranges hold the late key, and its keys do) and the two
  // appended ones (their dates are out of the late key's range): one is read and rewritten, two copied
  t.regex(out, /1 partitions: 0 appended, 1 rewritten \(1 files, \d+ rows written; 1 files read, 2 copied; the keys of 1 files probed\)/);
  t.is(await location('2021'), `s3://${bucket}/datalake/${TOPIC}/year=2021/_v000001/`);
  t.deepEqual(await counts(), { n: 104_227, k: 104_227 }, 'no key twice, none missing');
  const [row] = await query(`SELECT close FROM stock_market_data WHERE "index" = 'NYA' AND trade_date = DATE '${String(old.date)}'`);
  t.is(Number(row?.close), 1.5, 'the latest offset wins');
  const retired = await readRetired(store, spec);
  t.deepEqual(retired.map((r) => [r.values.year, r.generation]), [['2021', 0]]);
});

test.serial('a replay of every key leaves one row per key; retired generations go after the retention, the current stay', async (t) => {
  // the whole CSV staged again with new offsets: every key again, later offsets win
  await st.stage(records, { dt: nextDay(today()) });
  const out = await cli('run', 'etl');
  t.regex(out, /57 partitions: 0 appended, 57 rewritten/);
  t.regex(out, /3 retired files deleted/, "generation 0 of 2021 (three files) was retired a run ago: retainMinutes 0");
  t.deepEqual(await counts(), { n: 104_227, k: 104_227 });
  const [row] = await query(`SELECT count(*) AS n FROM stock_market_data WHERE close = 1.5 AND "index" = 'NYA'`);
  t.is(Number(row?.n), 0, 'the replayed CSV value is the latest now');
  // every current location holds exactly its manifest's files; nothing of 2021's generation 0 is left
  for (const year of ['1965', '2021']) {
    const m = (await readManifest(store, spec, { year }))!;
    t.is(await location(year), `s3://${bucket}/${m.location}`);
    t.deepEqual((await locationFiles(store, m.location)).map((o) => o.key.slice(m.location.length)), m.files.map((f) => f.name));
  }
  t.deepEqual(await locationFiles(store, `datalake/${TOPIC}/year=2021/`), [], "2021's generation 0 is deleted");
  // the next run deletes the generations this one retired (56 generation-0 files, 2021's three of
  // generation 1) and never a current file
  await st.stage([{ ...records[0]!, close: 2.5 }], { dt: nextDay(today()) });
  const again = await cli('run', 'etl');
  t.regex(again, /59 retired files deleted/);
  t.is((await store.list(`datalake/${TOPIC}/year=2021/_v000001/`)).length, 0, "2021's generation 1 is deleted");
  t.deepEqual(await counts(), { n: 104_227, k: 104_227 });
});

test.serial('compaction merges a partition of small files into one new generation; readers see the same rows; the ETL appends to it after', async (t) => {
  const before = (await readManifest(store, spec, { year: '2021' }))!;
  const last = records.filter((r) => String(r.date).startsWith('2021')).map((r) => String(r.date)).sort().pop()!;
  const day = nextDay(nextDay(last));
  await st.stage([{ ...records.find((r) => r.index === 'NYA')!, date: day, event_time: `${day}T21:00:00.000Z` }], { dt: nextDay(today()) });
  t.regex(await cli('run', 'etl'), /1 partitions: 1 appended, 0 rewritten/);
  t.is((await readManifest(store, spec, { year: '2021' }))!.files.length, before.files.length + 1);
  const n = await counts();

  const out = await cli('run', 'compact');
  // every other year holds one file; 2021 several small ones (maxRowsPerFile / 4 is 250,000 rows)
  t.regex(out, new RegExp(`compact stock_market_data: 1 partitions compacted \\(${before.files.length + 1} files read, 0 copied, 1 written, ${await yearRows('2021')} rows\\)`));
  const after = (await readManifest(store, spec, { year: '2021' }))!;
  t.is(after.files.length, 1);
  t.is(after.generation, before.generation + 1);
  t.is(await location('2021'), `s3://${bucket}/${after.location}`);
  t.deepEqual(await counts(), n, 'the same rows, each key once');
  t.regex(await cli('run', 'compact'), /compact stock_market_data: no partition has too many or too small files/);

  // the next append lands in the compacted generation's location
  const later = nextDay(day);
  await st.stage([{ ...records.find((r) => r.index === 'IXIC')!, date: later, event_time: `${later}T21:00:00.000Z` }], { dt: nextDay(today()) });
  t.regex(await cli('run', 'etl'), /1 partitions: 1 appended, 0 rewritten/);
  const appended = (await readManifest(store, spec, { year: '2021' }))!;
  t.is(appended.location, after.location);
  t.is(appended.files.length, 2);
  t.deepEqual(await counts(), { n: n.n + 1, k: n.k + 1 });
});
