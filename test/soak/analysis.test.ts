import test from 'ava';
import { fitSlope, judge, listSeconds, type Sample, thirds } from './analysis.js';

const MB = 1048576;
/** one sample every 10 s for `minutes`, RSS and fds and lag from the functions of the minute */
function series(minutes: number, rssMb: (m: number) => number, fds: (m: number) => number, lag: (m: number) => number): Sample[] {
  const out: Sample[] = [];
  for (let t = 10_000; t <= minutes * 60_000; t += 10_000) out.push({ t, usage: { consumer: { rss: rssMb(t / 60_000) * MB, fds: fds(t / 60_000) } }, lag: lag(t / 60_000) });
  return out;
}

test('the least squares slope of a straight line is its slope, after the warm-up', (t) => {
  const s = series(60, (m) => (m < 2 ? 500 : 100 + m), () => 40, () => 0);
  const fit = fitSlope(s, (x) => (x.usage.consumer?.rss ?? 0) / MB);
  t.truthy(fit);
  t.is(Math.round((fit?.slope ?? 0) * 3_600_000), 60); // 1 MB a minute; the warm-up spike is left out
});

test('flat memory with a GC sawtooth and jittering sockets passes; a leak of 60 MB/h over an hour fails', (t) => {
  const flat = series(60, (m) => 120 + ((m * 6) % 5) * 8, (m) => 40 + (Math.floor(m * 6) % 7), () => 5000);
  t.true(judge('consumer', flat, { daemon: true }).every((v) => v.ok));
  const leak = series(60, (m) => 120 + m, () => 40, () => 5000);
  const [v] = judge('consumer', leak, { daemon: true });
  t.false(v?.ok);
  t.regex(v?.why ?? '', /consumer RSS grows: \+\d+ MB/);
  const fdLeak = series(60, () => 120, (m) => 40 + m, () => 5000);
  t.regex(judge('consumer', fdLeak, { daemon: true })[0]?.why ?? '', /open files grow/);
  // a process that is not a daemon is information only
  t.true(judge('consumer', leak, {})[0]?.ok);
});

test('lag that settles is bounded; lag that keeps growing or stays above a minute of records is not', (t) => {
  const rate = 5000;
  t.true(judge('lag', series(30, () => 100, () => 40, (m) => 3000 + (m % 1) * 2000), { lag: rate })[0]?.ok);
  t.regex(judge('lag', series(30, () => 100, () => 40, (m) => m * 20_000), { lag: rate })[0]?.why ?? '', /lag grows/);
  t.regex(judge('lag', series(30, () => 100, () => 40, () => 400_000), { lag: rate })[0]?.why ?? '', /stays high/);
});

test('a spiky flat series over a short run is not a growth: the slope must be 3 standard errors from 0', (t) => {
  // the scheduler runs DuckDB in process: its RSS jumps by 100 MB during an ETL run and falls back
  const spikes = [187, 176, 194, 204, 219, 187, 307, 245, 191, 199, 222, 216, 326, 249, 208, 230, 325, 280];
  const s: Sample[] = spikes.map((mb, i) => ({ t: (i + 1) * 10_000, usage: { scheduler: { rss: mb * MB, fds: 21 } }, lag: 4000 }));
  const [v] = judge('scheduler', s, { daemon: true });
  t.true(v?.ok, v?.line);
  // the same jumps on a climbing floor over an hour are
  const climbing: Sample[] = Array.from({ length: 360 }, (_, i) => ({ t: (i + 1) * 10_000, usage: { scheduler: { rss: ((spikes[i % spikes.length] ?? 200) + i / 3) * MB, fds: 21 } }, lag: 4000 }));
  t.false(judge('scheduler', climbing, { daemon: true })[0]?.ok);
});

test('the LIST seconds of an ETL run come from its summary; a summary without them gives none', (t) => {
  t.is(listSeconds('etl t: 3 objects; etl: done in 1.9 s (S3: 9 LIST 0.41 s, 14 GET 0.12 s)'), 0.41);
  t.is(listSeconds('etl t: nothing new to merge; etl: done in 0.2 s (S3: 7 LIST 12.50 s)'), 12.5);
  t.is(listSeconds('etl: done in 1.9 s'), undefined);
  t.is(listSeconds(undefined), undefined);
});

test('thirds: the first and last third of a series, and their ratio', (t) => {
  t.deepEqual(thirds([1, 1, 1, 2, 2, 2, 3, 3, 3]), { first: 1, last: 3, ratio: 3 });
  t.deepEqual(thirds([2, 9, 4, 2]), { first: 5.5, last: 3, ratio: 3 / 5.5 });
  t.true(Number.isNaN(thirds([]).ratio));
});
