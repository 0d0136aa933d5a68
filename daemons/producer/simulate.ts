// Source `simulate`: an endless, deterministic random walk of daily prices per index, in the same record
// shape as the CSV replay (~200-byte messages), for load tests. The same seed gives the same ticks;
// only `event_time` (stamped when sent) differs between runs.
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
const round = (x: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

interface Walk {
  index: string;
  close: number;
  usd: number;
  day: number;
}

/** Ticks for ever (or `count` of them): each picks an index at random and moves it one trading day on. */
export function* simulateSource(opts: { seed: number; count?: number }): Generator<SourceRecord> {
  const random = prng(opts.seed);
  const start = Date.UTC(2000, 0, 3);
  const walks: Walk[] = INDEXES.map(([index, level, usd]) => ({ index, close: level, usd, day: start }));
  const count = opts.count ?? Infinity;
  for (let n = 0; n < count; n++) {
    const w = walks[Math.floor(random() * walks.length)] as Walk;
    do w.day += DAY;
    while (new Date(w.day).getUTCDay() % 6 === 0); // skip Saturday (6) and Sunday (0)
    const open = w.close;
    const close = Math.max(1, open * (1 + (random() - 0.5) * 0.04));
    const high = Math.max(open, close) * (1 + random() * 0.01);
    const low = Math.min(open, close) * (1 - random() * 0.01);
    w.close = close;
    yield {
      key: w.index,
      fields: {
        index: w.index,
        date: new Date(w.day).toISOString().slice(0, 10),
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
}
