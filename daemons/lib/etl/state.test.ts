// Bookmark, naming and the run lock, on a directory store (the same conditional-write contract as S3).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { generationLocation, generationOf, manifestKey, manifestValues, partFileName, partitionFolder, runId, visibleIn } from './lake.js';
import { acquireLock, dlqKey, isMerged, markMerged, parseStagingKey, readBookmark, STAGING_OBJECT, unmergedObjects, writeBookmark } from './state.js';
import { loadSpecs } from './spec.js';
import { dirStore, type ObjectStore } from './store.js';
import { PROJECT_ROOT } from '../paths.js';

const spec = loadSpecs(path.join(PROJECT_ROOT, 'glue/tables'))[0]!;
const fresh = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-state-'));
  return { d, store: dirStore(d), done: () => rmSync(d, { recursive: true, force: true }) };
};

test('names: staging objects, lake files, DLQ objects', (t) => {
  const k = 'staging/stock_market_data/dt=2026-11-21/stock_market_data+3+00000000000000000010+00000000000000000019.jsonl.gz';
  t.true(STAGING_OBJECT.test(k));
  t.false(STAGING_OBJECT.test(k.replace('.jsonl.gz', '.json')));
  t.false(STAGING_OBJECT.test('staging/stock_market_data/dt=2026-11-21/x.jsonl.gz'));
  t.is(partitionFolder(spec, { year: '1999' }), 'datalake/stock_market_data/year=1999/');
  t.is(partFileName('0123456789ab', 3), 'part-0123456789ab-00003.snappy.parquet');
  t.is(dlqKey(spec, k), 'staging/_dlq/stock_market_data/dt=2026-11-21/stock_market_data+3+00000000000000000010+00000000000000000019.etl.jsonl.gz');
});

test('protocol v3 names: run ids, generations, manifests, what a reader of a location sees', (t) => {
  // sorted before hashing: the same input names the same files in both executors, in any order
  t.is(runId(['b', 'a']), runId(['a', 'b']));
  t.regex(runId(['a']), /^[0-9a-f]{12}$/);
  t.not(runId(['a']), runId(['a', 'b']));
  const folder = 'datalake/stock_market_data/year=1999/';
  t.is(generationLocation(folder, 0), folder);
  t.is(generationLocation(folder, 12), `${folder}_v000012/`);
  t.is(generationOf(folder, `${folder}_v000012/`), 12);
  t.throws(() => generationOf(folder, 'datalake/stock_market_data/year=2000/'), { message: /neither/ });
  t.is(manifestKey(spec, { year: '1999' }), '_state/lake/stock_market_data/year=1999.json');
  t.deepEqual(manifestValues(spec, '_state/lake/stock_market_data/year=1999.json'), { year: '1999' });
  t.is(manifestValues(spec, '_state/lake/stock_market_data/_retired.json'), undefined);
  t.true(visibleIn(folder, `${folder}part-x.snappy.parquet`));
  t.false(visibleIn(folder, `${folder}_v000001/part-x.snappy.parquet`), 'a generation folder is hidden from a reader of generation 0');
  t.false(visibleIn(folder, `${folder}.part-x.crc`));
  t.false(visibleIn(`${folder}_v000001/`, `${folder}part-x.snappy.parquet`));
});

const T = 'stock_market_data';
const key = (p: number, first: number, last: number, dt = '2026-11-21') => `staging/${T}/dt=${dt}/${T}+${p}+${String(first).padStart(20, '0')}+${String(last).padStart(20, '0')}.jsonl.gz`;

test('the bookmark: empty when absent, then per partition the newest object merged', async (t) => {
  const { store, done } = fresh();
  try {
    const b = await readBookmark(store, 'j');
    t.deepEqual(b.tables, {});
    const keys = [key(0, 5, 9), key(0, 0, 4), key(1, 0, 2)];
    for (const k of keys) await store.put(k, Buffer.from('x'));
    await store.put(`staging/${T}/dt=2026-11-21/not-staging.txt`, Buffer.from('x'));
    t.deepEqual((await unmergedObjects(store, spec, b)).map((o) => o.key), [...keys].sort());
    markMerged(b, spec, [{ key: keys[1]!, size: 1 }, { key: keys[2]!, size: 1 }], new Date('2026-11-21T10:00:00Z'));
    await writeBookmark(store, b, new Date('2026-11-21T10:00:01Z'));
    const again = await readBookmark(store, 'j');
    t.deepEqual(again.tables[T], { listFrom: '2026-11-20', partitions: { [`${T}+0`]: { first: 0, last: 4 }, [`${T}+1`]: { first: 0, last: 2 } } });
    t.is(again.updatedAt, '2026-11-21T10:00:01.000Z');
    t.deepEqual((await unmergedObjects(store, spec, again)).map((o) => o.key), [keys[0]]);
    await store.put('_state/j.json', Buffer.from('{nope'));
    await t.throwsAsync(readBookmark(store, 'j'), { message: /the ETL bookmark .*_state\/j\.json is not JSON/ });
    await store.put('_state/j.json', Buffer.from('{"version": 3, "tables": {}}'));
    await t.throwsAsync(readBookmark(store, 'j'), { message: /the ETL bookmark .*_state\/j\.json has an unknown format/ });
  } finally {
    done();
  }
});

test('a bookmark of the first format (every merged key) is read as the same marks', async (t) => {
  const { store, done } = fresh();
  try {
    const merged = [key(0, 0, 4), key(0, 5, 9), key(2, 0, 0)];
    for (const k of [...merged, key(0, 10, 12)]) await store.put(k, Buffer.from('x'));
    await store.put('_state/j.json', Buffer.from(JSON.stringify({ version: 1, job: 'j', updatedAt: 'x', tables: { [T]: { merged } } })));
    const b = await readBookmark(store, 'j');
    t.deepEqual(b.tables[T], { listFrom: '', partitions: { [`${T}+0`]: { first: 5, last: 9 }, [`${T}+2`]: { first: 0, last: 0 } } });
    t.deepEqual((await unmergedObjects(store, spec, b)).map((o) => o.key), [key(0, 10, 12)]);
  } finally {
    done();
  }
});

test('a run lists what can be new: recent dt= prefixes, and per partition from its newest merged object on', async (t) => {
  const { store, done } = fresh();
  try {
    const history: string[] = [];
    for (let i = 0; i < 300; i++) for (const p of [0, 1]) history.push(key(p, i * 10, i * 10 + 9, i < 150 ? '2026-11-20' : '2026-11-21'));
    for (const k of history) await store.put(k, Buffer.from('x'));
    const b = await readBookmark(store, 'j');
    markMerged(b, spec, history.map((k) => ({ key: k, size: 1 })), new Date('2026-11-21T12:00:00Z'));
    const fresh2 = [
      key(0, 3000, 3009), // next in partition 0
      key(1, 2990, 3005), // a revoked consumer's late PUT: starts at the newest merged object, holds more
      key(3, 0, 7), // a partition never seen
      key(0, 3010, 3019, '2026-11-22'), // the next day
    ];
    const stale = [key(1, 2990, 2995), key(0, 100, 109, '2026-11-19')];
    for (const k of [...fresh2, ...stale]) await store.put(k, Buffer.from('x'));
    // count what the listing reads: it must follow the new objects, not the 600 merged ones
    let read = 0;
    const counting: ObjectStore = {
      ...store,
      list: async (p, s) => {
        const r = await store.list(p, s);
        read += r.length;
        return r;
      },
      prefixes: async (p, d, s) => {
        const r = await store.prefixes(p, d, s);
        read += r.length;
        return r;
      },
    };
    t.deepEqual((await unmergedObjects(counting, spec, b)).map((o) => o.key), [...fresh2].sort());
    t.true(read <= 20, `the listing read ${read} keys and prefixes`);
    for (const k of fresh2) t.false(isMerged(b.tables[T], k), k);
    for (const k of [...history, ...stale]) t.true(isMerged(b.tables[T], k), k);
    t.is(parseStagingKey(key(3, 0, 7))?.tp, `${T}+3`);
  } finally {
    done();
  }
});

test('the lock: one holder; a live holder blocks, an expired one or a dead process on this host is taken over', async (t) => {
  const { store, done } = fresh();
  try {
    let now = new Date('2026-11-21T00:00:00Z');
    const clock = () => now;
    const a = await acquireLock(store, 'j', 60_000, clock);
    await t.throwsAsync(acquireLock(store, 'j', 60_000, clock), { message: /another ETL run holds the lock .*j\.lock \(.+\) until 2026-11-21T00:01:00\.000Z/ });
    now = new Date('2026-11-21T00:01:01Z'); // expired
    const b = await acquireLock(store, 'j', 60_000, clock);
    await a.release(); // no longer a's: release leaves b's lock alone
    t.truthy(await store.get('_state/j.lock'));
    await b.release();
    t.is(await store.get('_state/j.lock'), undefined);
    await store.put('_state/j.lock', Buffer.from(JSON.stringify({ host: os.hostname(), pid: 999_999, owner: 'x', expiresAt: '2099-01-01T00:00:00Z' })));
    const c = await acquireLock(store, 'j', 60_000, clock);
    t.is(c.body.pid, process.pid);
    await c.release();
  } finally {
    done();
  }
});
