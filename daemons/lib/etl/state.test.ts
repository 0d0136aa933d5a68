// Bookmark, naming and the run lock, on a directory store (the same conditional-write contract as S3).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { acquireLock, dlqKey, partFile, partitionDir, readBookmark, STAGING_OBJECT, unmergedObjects, writeBookmark } from './state.js';
import { loadSpecs } from './spec.js';
import { dirStore } from './store.js';
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
  t.is(partitionDir(spec, { year: 1999 }), 'datalake/stock_market_data/year=1999/');
  t.is(partFile(3), 'part-00003.snappy.parquet');
  t.is(dlqKey(spec, k), 'staging/_dlq/stock_market_data/dt=2026-11-21/stock_market_data+3+00000000000000000010+00000000000000000019.etl.jsonl.gz');
});

test('the bookmark: empty when absent, then the merged objects, sorted and once each', async (t) => {
  const { store, done } = fresh();
  try {
    const b = await readBookmark(store, 'j');
    t.deepEqual(b.tables, {});
    const keys = ['b', 'a'].map((p) => `staging/stock_market_data/dt=2026-11-21/stock_market_data+0+0000000000000000000${p === 'a' ? 0 : 5}+0000000000000000000${p === 'a' ? 4 : 9}.jsonl.gz`);
    for (const k of keys) await store.put(k, Buffer.from('x'));
    await store.put('staging/stock_market_data/dt=2026-11-21/not-staging.txt', Buffer.from('x'));
    t.deepEqual((await unmergedObjects(store, spec, b)).map((o) => o.key), [...keys].sort());
    b.tables.stock_market_data = { merged: [keys[0]!, keys[0]!] };
    await writeBookmark(store, b, new Date('2026-11-21T00:00:00Z'));
    const again = await readBookmark(store, 'j');
    t.deepEqual(again.tables.stock_market_data?.merged, [keys[0]]);
    t.is(again.updatedAt, '2026-11-21T00:00:00.000Z');
    t.deepEqual((await unmergedObjects(store, spec, again)).map((o) => o.key), [keys[1]]);
    await store.put('_state/j.json', Buffer.from('{nope'));
    await t.throwsAsync(readBookmark(store, 'j'), { message: /the ETL bookmark .*_state\/j\.json is not JSON/ });
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
