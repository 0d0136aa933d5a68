// When a partition is due for compaction, and which files a bin-pack copies as they are (glue/README.md,
// Compaction; glue/etl_job.py's compaction_plan decides the same, proven by the equivalence test).
import test from 'ava';
import type { ManifestFile } from '../../lib/etl/lake.js';
import { backgroundWrites, compactionPlan } from './write.js';

const file = (name: string, rows: number): ManifestFile => ({ name, rows, bytes: rows * 40, min: [], max: [] });
const kept = (plan: ReturnType<typeof compactionPlan>) => plan?.kept.map((f) => f.name);

test('a tail of tiny files beside full ones: the small ones are merged, the full ones kept', (t) => {
  const files = [file('full-1', 1000), file('full-2', 800), file('half', 500), file('tiny-1', 200), file('tiny-2', 10)];
  t.deepEqual(kept(compactionPlan(1000, 8, files, 0)), ['full-1', 'full-2']);
});

test('not due: one tiny file, or fewer than two small ones however many files', (t) => {
  t.is(compactionPlan(1000, 8, [file('a', 1000), file('b', 100)], 0), undefined, 'one tiny file and no more than maxFiles');
  t.is(compactionPlan(1000, 8, [file('a', 500), file('b', 600)], 0), undefined, 'two small, none tiny, 2 files');
  const full = Array.from({ length: 20 }, (_, i) => file(`f${i}`, 1000));
  t.is(compactionPlan(1000, 8, [...full, file('s', 10)], 0), undefined, '20 full files and one small: nothing to merge');
  t.is(compactionPlan(1000, 8, [], 0), undefined, 'an empty partition');
});

test('due by count: more than maxFiles files with two small ones, none tiny', (t) => {
  const full = Array.from({ length: 7 }, (_, i) => file(`f${i}`, 1000));
  t.deepEqual(kept(compactionPlan(1000, 8, [...full, file('s1', 500), file('s2', 600)], 0)), full.map((f) => f.name));
});

test('a file the manifest does not know: every file is merged (it may hold any key)', (t) => {
  t.deepEqual(kept(compactionPlan(1000, 8, [file('full', 1000), file('tiny', 10)], 1)), []);
  t.is(compactionPlan(1000, 8, [file('full', 1000)], 1), undefined, 'one unknown file alone is one small file');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('background writes: at most `limit` at once; drain waits for all of them', async (t) => {
  const w = backgroundWrites(2);
  let going = 0;
  let most = 0;
  const done: number[] = [];
  for (let i = 0; i < 6; i++) {
    await w.add(async () => {
      going++;
      most = Math.max(most, going);
      await sleep(20);
      going--;
      done.push(i);
    });
  }
  await w.drain();
  t.is(most, 2);
  t.deepEqual([...done].sort(), [0, 1, 2, 3, 4, 5]);
});

test('background writes: a failure is thrown by the next add and by drain, after the others ended', async (t) => {
  const w = backgroundWrites(4);
  let slowEnded = false;
  await w.add(async () => {
    await sleep(50);
    slowEnded = true;
  });
  await w.add(() => Promise.reject(new Error('PUT s3://b/lake/x.parquet: read ECONNRESET')));
  await sleep(5);
  await t.throwsAsync(w.add(() => Promise.resolve()), { message: /ECONNRESET/ });
  await t.throwsAsync(w.drain(), { message: /ECONNRESET/ });
  t.true(slowEnded, 'drain waited for the write still going');
});
