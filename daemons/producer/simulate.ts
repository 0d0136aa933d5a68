// Source `simulate`: an endless, deterministic random walk of daily prices, in the same record shape as the CSV
// replay (~200-byte messages), for load tests. It plays an exchange's end-of-day file: each trading day every
// symbol gets one bar (in a shuffled order), then the day moves on, so a stream of any rate spans few dates
// (at 10,000 records/s and 1,000 symbols, 10 trading days a second) and the lake's year partitions grow as
// a live feed's would. The first symbols are the dataset's 13 indexes, the rest are named SIM0014, SIM0015…
// The dates stay in 2000–2099: past the last trading day of 2099 the walk goes on from 2000-01-03 with every
// symbol listed anew (NYA-2, SIM0014-2…), so each (index, date), the table's business key, still comes once,
// and no date ever leaves the four-digit years the table accepts. The same seed and symbols give the same
// ticks; only `event_time` (stamped when sent) differs between runs.
import type { SourceRecord } from './record.js';

/** The indexes of the dataset, a plausible starting level and the USD rate of their currency. */
const INDEXES: ReadonlyArray<readonly [index: string, level: number, usd: number]> = [
  ['NYA', 6000, 1],
  ['IXIC', 2500, 1],
  ['HSI', 15000, 0.13],
  ['GSPTSE', 9000, 0.75],
  ['N225', 17000, 0.0091],
  ['GDAXI', 6500, 1.2],
  ['SSMI', 7000, 1.1],
  ['TWII', 7000, 0.036],
  ['000001.SS', 2500, 0.15],
  ['399001.SZ', 9000, 0.15],
  ['N100', 800, 1.2],
  ['NSEI', 5000, 0.014],
  ['J203.JO', 20000, 0.07],
];

/** mulberry32: a tiny seeded PRNG, good enough for test data (not for anything secret). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000;
const FIRST_DAY = Date.UTC(2000, 0, 3); // a Monday
const END = Date.UTC(2100, 0, 1);
const round = (x: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

interface Walk {
  name: string;
  close: number;
  usd: number;
}

/** The next trading day (Monday to Friday) after `day`. */
function nextTradingDay(day: number): number {
  do day += DAY;
  while (new Date(day).getUTCDay() % 6 === 0); // skip Saturday (6) and Sunday (0)
  return day;
}

export interface SimulateOptions {
  seed: number;
  /** how many symbols trade each day: the dataset's 13 indexes first, then SIM0014… */
  symbols: number;
  /** stop after this many ticks (default: never) */
  count?: number;
}

/** Ticks for ever (or `count` of them): each trading day, every symbol once in a shuffled order. */
export function* simulateSource(opts: SimulateOptions): Generator<SourceRecord> {
  if (!(Number.isInteger(opts.symbols) && opts.symbols >= 1)) throw new RangeError(`simulate: symbols must be a whole number of at least 1, got ${opts.symbols}`);
  const random = prng(opts.seed);
  const walks: Walk[] = Array.from({ length: opts.symbols }, (_, i) => {
    const known = INDEXES[i];
    if (known) return { name: known[0], close: known[1], usd: known[2] };
    return { name: `SIM${String(i + 1).padStart(4, '0')}`, close: 10 + random() * 990, usd: (INDEXES[i % INDEXES.length] as (typeof INDEXES)[number])[2] };
  });
  const order = walks.map((_, i) => i);
  const count = opts.count ?? Infinity;
  let listing = 1;
  let day = FIRST_DAY;
  let n = 0;
  for (;;) {
    const date = new Date(day).toISOString().slice(0, 10);
    const suffix = listing === 1 ? '' : `-${listing}`;
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    for (const k of order) {
      if (n++ >= count) return;
      const w = walks[k] as Walk;
      const open = w.close;
      const close = Math.max(1, open * (1 + (random() - 0.5) * 0.04));
      const high = Math.max(open, close) * (1 + random() * 0.01);
      const low = Math.min(open, close) * (1 - random() * 0.01);
      w.close = close;
      const index = w.name + suffix;
      yield {
        key: index,
        fields: {
          index,
          date,
          open: round(open, 6),
          high: round(high, 6),
          low: round(low, 6),
          close: round(close, 6),
          adj_close: round(close, 6),
          volume: Math.floor(random() * 2e9),
          close_usd: round(close * w.usd, 8),
        },
      };
    }
    day = nextTradingDay(day);
    if (day >= END) {
      day = FIRST_DAY;
      listing++;
    }
  }
}
