import test from 'ava';
import { serialise } from './record.js';
import { simulateSource } from './simulate.js';

const take = (seed: number, n: number, symbols = 13) => [...simulateSource({ seed, symbols, count: n })];
const isWeekend = (date: string) => new Date(`${date}T00:00:00Z`).getUTCDay() % 6 === 0;

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
    if (isWeekend(f.date)) t.fail(`a weekend date ${f.date}`);
    const prev = last.get(key);
    if (prev && !(f.date > prev.date && f.open === prev.close)) t.fail(`${key} does not walk on from ${JSON.stringify(prev)}`);
    last.set(key, { date: f.date, close: f.close });
    bytes += serialise({ ...fields }, '2026-11-21T23:00:00.000Z').length;
  }
  t.deepEqual([...last.keys()].sort(), ['000001.SS', '399001.SZ', 'GDAXI', 'GSPTSE', 'HSI', 'IXIC', 'J203.JO', 'N100', 'N225', 'NSEI', 'NYA', 'SSMI', 'TWII']);
  const avg = bytes / recs.length;
  t.true(avg > 180 && avg < 240, `average ${avg} bytes`);
});

test('each trading day every symbol trades once, in a shuffled order, then the date moves on', (t) => {
  const symbols = 1000;
  const recs = take(3, 5 * symbols, symbols);
  const days = new Map<string, string[]>();
  for (const { key, fields } of recs) days.set(fields.date as string, [...(days.get(fields.date as string) ?? []), key]);
  t.deepEqual([...days.keys()], ['2000-01-03', '2000-01-04', '2000-01-05', '2000-01-06', '2000-01-07']);
  const orders = [...days.values()];
  for (const keys of orders) t.is(new Set(keys).size, symbols);
  t.deepEqual(orders[0]!.slice().sort(), orders[1]!.slice().sort());
  t.notDeepEqual(orders[0], orders[1], 'the order is shuffled each day');
  t.true(orders[0]!.includes('NYA') && orders[0]!.includes('SIM0014') && orders[0]!.includes('SIM1000'));
  t.false(orders[0]!.includes('SIM0013'), 'the 13th symbol is an index of the dataset');
});

test('dates never leave 2000–2099: the walk starts over with every symbol listed anew, each (index, date) once', (t) => {
  // 2000-01-03 to 2099-12-31 holds 26,089 weekdays; with 2 symbols, 3 listings are 156,534 ticks
  const recs = take(5, 160_000, 2);
  const seen = new Set<string>();
  let dupes = 0;
  for (const { fields } of recs) {
    const date = fields.date as string;
    if (!/^20[0-9]{2}-[0-9]{2}-[0-9]{2}$/.test(date) || isWeekend(date)) t.fail(`date ${date}`);
    const k = `${fields.index}|${date}`;
    if (seen.has(k)) dupes++;
    seen.add(k);
  }
  t.is(dupes, 0);
  const names = new Set(recs.map((r) => r.key));
  t.deepEqual([...names].sort(), ['IXIC', 'IXIC-2', 'IXIC-3', 'IXIC-4', 'NYA', 'NYA-2', 'NYA-3', 'NYA-4']);
  const at = (i: number) => recs[i]!.fields;
  const perListing = 26_089 * 2;
  t.is(at(perListing - 1).date, '2099-12-31');
  t.is(at(perListing).date, '2000-01-03');
  t.regex(at(perListing).index as string, /-2$/);
  // the price walks on across the new listing
  const lastNya = recs.slice(0, perListing).filter((r) => r.key === 'NYA').at(-1)!.fields;
  const firstNya2 = recs.slice(perListing).find((r) => r.key === 'NYA-2')!.fields;
  t.is(firstNya2.open, lastNya.close);
});

test('endless unless counted; symbols must be at least 1', (t) => {
  const it = simulateSource({ seed: 1, symbols: 1000 });
  for (let i = 0; i < 100_000; i++) if (it.next().done) t.fail('ended');
  t.is(take(1, 3).length, 3);
  t.throws(() => simulateSource({ seed: 1, symbols: 0 }).next(), { message: 'simulate: symbols must be a whole number of at least 1, got 0' });
});
