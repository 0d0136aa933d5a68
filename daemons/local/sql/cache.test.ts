// The cache's pruning (cache.ts) on a real directory: what a kept snapshot or a recent query reads stays,
// the rest goes once the grace period has passed since it was last used.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { pruneCache, touchSnapshot, writeManifest } from './cache.js';

const MIN = 60_000;
const GRACE = 60 * MIN;

async function cache() {
  const dir = await mkdtemp(path.join(tmpdir(), 'kl-cache-'));
  await mkdir(path.join(dir, 'objects'));
  await mkdir(path.join(dir, 'db'));
  const obj = (n: string) => path.join(dir, 'objects', n);
  const db = (n: string) => path.join(dir, 'db', n);
  /** a file last used `minutesAgo` */
  const file = async (p: string, minutesAgo: number, body = 'x'.repeat(100)) => {
    await writeFile(p, body);
    await age(p, minutesAgo);
  };
  const age = async (p: string, minutesAgo: number) => {
    const t = new Date(Date.now() - minutesAgo * MIN);
    await utimes(p, t, t);
  };
  /** a snapshot built `minutesAgo` reading `objects` */
  const snapshot = async (id: string, minutesAgo: number, objects: string[]) => {
    await writeManifest(db(`${id}.duckdb`), objects.map(obj));
    await age(db(`${id}.files`), minutesAgo);
    await file(db(`${id}.duckdb`), minutesAgo);
  };
  const left = async () => ({ objects: (await readdir(path.join(dir, 'objects'))).sort(), db: (await readdir(path.join(dir, 'db'))).sort() });
  return { dir, obj, db, file, age, snapshot, left };
}

test('beyond the newest snapshots, a snapshot goes at once; its objects when the grace has passed since it was last read', async (t) => {
  const c = await cache();
  for (const o of ['a', 'b', 'c', 'd']) await c.file(c.obj(o), 300);
  await c.snapshot('s1', 240, ['a', 'b']); // built 4 h ago, last read then
  await c.snapshot('s2', 200, ['b', 'd']); // built long ago, but a query opened it 10 minutes ago
  await c.age(c.db('s2.files'), 10);
  await c.snapshot('s3', 1, ['b', 'c']); // just built
  const pruned = await pruneCache(c.dir, c.db('s3.duckdb'), { keep: 1, graceMs: GRACE });
  t.deepEqual(await c.left(), { objects: ['b', 'c', 'd'], db: ['s2.files', 's3.duckdb', 's3.files'] });
  t.deepEqual(pruned, { snapshots: 2, objects: 1, bytes: 100 });
  // an hour after that query, its objects go too
  await c.age(c.db('s2.files'), 61);
  t.like(await pruneCache(c.dir, c.db('s3.duckdb'), { keep: 1, graceMs: GRACE }), { snapshots: 0, objects: 1 });
  t.deepEqual(await c.left(), { objects: ['b', 'c'], db: ['s3.duckdb', 's3.files'] });
  await rm(c.dir, { recursive: true, force: true });
});

test('a kept snapshot keeps its objects however old; an object nothing names yet (another build’s download) stays for the grace', async (t) => {
  const c = await cache();
  await c.file(c.obj('old-kept'), 600);
  await c.file(c.obj('fresh-unnamed'), 5);
  await c.file(c.obj('old-unnamed'), 90);
  await c.snapshot('s1', 500, ['old-kept']);
  await c.snapshot('s2', 0, []);
  await c.file(c.db('s9.duckdb.tmp-123-1'), 120); // a build that died two hours ago
  await c.file(c.db('s8.duckdb.tmp-124-1'), 1); // one in progress
  await pruneCache(c.dir, c.db('s2.duckdb'), { keep: 2, graceMs: GRACE });
  t.deepEqual(await c.left(), { objects: ['fresh-unnamed', 'old-kept'], db: ['s1.duckdb', 's1.files', 's2.duckdb', 's2.files', 's8.duckdb.tmp-124-1'] });
  await rm(c.dir, { recursive: true, force: true });
});

test('a query opening a snapshot marks it read now; a manifest whose snapshot is gone is itself deleted after the grace', async (t) => {
  const c = await cache();
  await c.file(c.obj('a'), 300);
  await c.snapshot('s1', 300, ['a']);
  await touchSnapshot(c.db('s1.duckdb'));
  await c.snapshot('s2', 0, []);
  await pruneCache(c.dir, c.db('s2.duckdb'), { keep: 1, graceMs: GRACE });
  t.true(existsSync(c.obj('a')), 's1 was read a moment ago: its objects stay although s1 is gone');
  t.true(existsSync(c.db('s1.files')));
  t.false(existsSync(c.db('s1.duckdb')));
  await pruneCache(c.dir, c.db('s2.duckdb'), { keep: 1, graceMs: 0, now: Date.now() + 1000 });
  t.deepEqual(await c.left(), { objects: [], db: ['s2.duckdb', 's2.files'] });
  await rm(c.dir, { recursive: true, force: true });
});
