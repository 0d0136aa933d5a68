// The timed store: each call is counted under its kind and timed, failures too, and passed on unchanged.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { describeStoreCalls, dirStore, timedStore } from './store.js';

test('every call is counted under its kind (prefixes is a list) and answered as the store answers it', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-timed-'));
  try {
    const { store, calls } = timedStore(dirStore(dir));
    await store.put('a/1', Buffer.from('x'));
    await store.put('a/2', Buffer.from('y'));
    t.deepEqual((await store.list('a/')).map((o) => o.key), ['a/1', 'a/2']);
    t.deepEqual(await store.prefixes('', '/'), ['a/']);
    t.is((await store.get('a/1'))?.body.toString(), 'x');
    t.is(await store.get('a/none'), undefined);
    await store.copy('a/1', 'b/1');
    await store.delete('a/2');
    await t.throwsAsync(store.copy('a/none', 'b/2'));
    const c = calls();
    t.deepEqual(Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.calls])), { list: 2, get: 2, put: 2, copy: 2, delete: 1 });
    t.true(Object.values(c).every((v) => v.ms >= 0));
    t.regex(describeStoreCalls(c), /^S3: 2 LIST \d+\.\d\d s, 2 GET \d+\.\d\d s, 2 PUT \d+\.\d\d s, 2 COPY \d+\.\d\d s, 1 DELETE \d+\.\d\d s$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
