// What each saved report should say, computed here in TypeScript from the CSV rows csv-parse read —
// independently of kafkalake's SQL, DuckDB and the lake. Rows come back in the reports' order.
import type { CsvRow } from './crawl-helpers.js';

const DAY = 86_400_000;
const dayMs = (d: string) => Date.parse(`${d}T00:00:00Z`);

function byIndex(rows: CsvRow[]): Map<string, CsvRow[]> {
  const m = new Map<string, CsvRow[]>();
  for (const r of rows) {
    const list = m.get(r.index);
    if (list) list.push(r);
    else m.set(r.index, [r]);
  }
  for (const list of m.values()) list.sort((a, b) => a.date.localeCompare(b.date));
  return new Map([...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

export function dailyOhlc(rows: CsvRow[]) {
  const out: Array<[string, string, number, number, number, number, number, number]> = [];
  for (const [index, list] of byIndex(rows)) {
    const last = dayMs(list[list.length - 1]!.date);
    for (const r of list) if (dayMs(r.date) > last - 30 * DAY) out.push([index, r.date, r.open, r.high, r.low, r.close, r.volume, r.closeUsd]);
  }
  return out;
}

export function yearlyOhlc(rows: CsvRow[]) {
  const out: Array<[string, number, number, number, number, number, number, number]> = [];
  for (const [index, list] of byIndex(rows)) {
    const years = new Map<number, CsvRow[]>();
    for (const r of list) {
      const y = Number(r.date.slice(0, 4));
      const ys = years.get(y);
      if (ys) ys.push(r);
      else years.set(y, [r]);
    }
    for (const [y, ys] of [...years.entries()].sort((a, b) => a[0] - b[0])) {
      out.push([index, y, ys[0]!.open, Math.max(...ys.map((r) => r.high)), Math.min(...ys.map((r) => r.low)), ys[ys.length - 1]!.close, ys.reduce((n, r) => n + r.volume, 0), ys.length]);
    }
  }
  return out;
}

export function bestWorstDays(rows: CsvRow[]) {
  const out: Array<[string, string, number, string, number, number, number]> = [];
  for (const [index, list] of byIndex(rows)) {
    const ch: Array<{ date: string; prev: number; close: number; ret: number }> = [];
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!.close;
      if (prev > 0) ch.push({ date: list[i]!.date, prev, close: list[i]!.close, ret: list[i]!.close / prev - 1 });
    }
    const best = [...ch].sort((a, b) => b.ret - a.ret || a.date.localeCompare(b.date)).slice(0, 5);
    const worst = [...ch].sort((a, b) => a.ret - b.ret || a.date.localeCompare(b.date)).slice(0, 5);
    best.forEach((c, i) => out.push([index, 'best', i + 1, c.date, c.prev, c.close, c.ret]));
    worst.forEach((c, i) => out.push([index, 'worst', i + 1, c.date, c.prev, c.close, c.ret]));
  }
  return out;
}

export function rolling30dCloseUsd(rows: CsvRow[]) {
  const out: Array<[string, string, number, number, number]> = [];
  for (const [index, list] of byIndex(rows)) {
    const last = dayMs(list[list.length - 1]!.date);
    list.forEach((r, i) => {
      if (dayMs(r.date) <= last - 90 * DAY) return;
      const w = list.slice(Math.max(0, i - 29), i + 1);
      out.push([index, r.date, r.closeUsd, w.reduce((n, x) => n + x.closeUsd, 0) / w.length, w.length]);
    });
  }
  return out;
}

export interface DqRow {
  index: string | null;
  date: string | null;
  open: number | null;
  high: number | null;
  low: number | null;
  close: number | null;
  adjClose: number | null;
  volume: number | null;
  closeUsd: number | null;
  partition: number;
  offset: number;
}

export function dataQuality(rows: DqRow[], dlqReasons: string[]) {
  const count = (f: (r: DqRow) => boolean) => rows.filter(f).length;
  const dup = (key: (r: DqRow) => string) => {
    const m = new Map<string, number>();
    for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
    return [...m.values()].filter((n) => n > 1).length;
  };
  const lt = (a: number | null, b: number | null) => a !== null && b !== null && a < b;
  const out: Array<[string, string, number]> = [
    ['row_count', 'stock_market_data', rows.length],
    ['null_values', 'index', count((r) => r.index === null)],
    ['null_values', 'trade_date', count((r) => r.date === null)],
    ['null_values', 'open', count((r) => r.open === null)],
    ['null_values', 'high', count((r) => r.high === null)],
    ['null_values', 'low', count((r) => r.low === null)],
    ['null_values', 'close', count((r) => r.close === null)],
    ['null_values', 'adj_close', count((r) => r.adjClose === null)],
    ['null_values', 'volume', count((r) => r.volume === null)],
    ['null_values', 'close_usd', count((r) => r.closeUsd === null)],
    ['high_below_low', 'stock_market_data', count((r) => lt(r.high, r.low))],
    ['close_outside_range', 'stock_market_data', count((r) => lt(r.high, r.close) || lt(r.close, r.low))],
    ['negative_volume', 'stock_market_data', count((r) => r.volume !== null && r.volume < 0)],
    ['duplicate_index_trade_date', 'stock_market_data', dup((r) => `${r.index}|${r.date}`)],
    ['duplicate_envelope', 'stock_market_data', dup((r) => `${r.partition}|${r.offset}`)],
  ];
  const reasons = new Map<string, number>();
  for (const r of dlqReasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
  for (const [r, n] of reasons) out.push(['dlq_records', r, n]);
  return out.sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1));
}

export function freshness(rows: CsvRow[]) {
  return [...byIndex(rows)].map(([index, list]) => ({ index, latestTradeDate: list[list.length - 1]!.date }));
}
