import test from 'ava';
import { serialise } from './record.js';
import { simulateSource } from './simulate.js';

const take = (seed: number, n: number) => [...simulateSource({ seed, count: n })];

test('the same seed gives the same ticks; another seed, others', (t) => {
  t.deepEqual(take(42, 500), take(42, 500));
  t.notDeepEqual(take(42, 50), take(43, 50));
});

test('records have the CSV replay shape, ~200 bytes with event_time, a valid walk per index', (t) => {
  const recs = take(7, 5000);
  let bytes = 0;
  const last = new Map<string, { date: string; close: number }>();
  for (const { key, fields } of recs) {
    t.is(fields.index, key);
    t.deepEqual(Object.keys(fields), ['index', 'date', 'open', 'high', 'low', 'close', 'adj_close', 'volume', 'close_usd']);
    const f = fields as { date: string; open: number; high: number; low: number; close: number; volume: number };
    if (!(f.low <= Math.min(f.open, f.close) && f.high >= Math.max(f.open, f.close) && f.low > 0)) t.fail(`bad prices ${JSON.stringify(fields)}`);
    const day = new Date(`${f.date}T00:00:00Z`).getUTCDay();
    if (day === 0 || day === 6) t.fail(`a weekend date ${f.date}`);
    const prev = last.get(key);
    if (prev && !(f.date > prev.date && f.open === prev.close)) t.fail(`${key} does not walk on from ${JSON.stringify(prev)}`);
    last.set(key, { date: f.date, close: f.close });
    bytes += serialise({ ...fields }, '2026-11-21T23:00:00.000Z').length;
  }
  t.is(last.size, 13, 'every index of the dataset ticks');
  const avg = bytes / recs.length;
  t.true(avg > 180 && avg < 240, `average ${avg} bytes`);
});

test('endless unless counted', (t) => {
  const it = simulateSource({ seed: 1 });
  for (let i = 0; i < 100_000; i++) if (it.next().done) t.fail('ended');
  t.is(take(1, 3).length, 3);
});
