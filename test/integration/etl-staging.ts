// Test fixtures of the ETL: staging objects written exactly as DESIGN.md lays them out (gzip JSON
// lines, record fields plus the Kafka envelope, named <topic>+<partition>+<first:020d>+<last:020d>),
// from the real stock CSV or from a simulated random walk, into any ObjectStore (the twin's S3 or a dir).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import type { ObjectStore } from '../../daemons/lib/etl/store.js';

export const CSV = '/work/shared/data/stock-exchange/indexProcessed.csv';

export type Rec = Record<string, unknown>;

/** Today's UTC date: the dt= a consumer would stage under now (the ETL lists recent dt= prefixes only). */
export const today = () => new Date().toISOString().slice(0, 10);
export const nextDay = (dt: string) => new Date(Date.parse(`${dt}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** The CSV's rows as the producer sends them: snake_case names, numbers as numbers. */
export function csvRecords(file = CSV): Rec[] {
  const rows = parse(readFileSync(file), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return rows.map((r) => ({
    index: r.Index,
    date: r.Date,
    open: Number(r.Open),
    high: Number(r.High),
    low: Number(r.Low),
    close: Number(r.Close),
    adj_close: Number(r['Adj Close']),
    volume: Number(r.Volume),
    close_usd: Number(r.CloseUSD),
    event_time: `${r.Date}T21:00:00.000Z`,
  }));
}

/** A deterministic random walk: `symbols` indexes × consecutive trading days from 1995-01-02. */
export function* simulatedRecords(count: number, symbols = 1000, seed = 1): Generator<Rec> {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const price = Array.from({ length: symbols }, () => 100 + rnd() * 900);
  const day0 = Date.UTC(1995, 0, 2);
  for (let i = 0; i < count; i++) {
    const sym = i % symbols;
    const day = Math.floor(i / symbols);
    const p = (price[sym] = price[sym]! * (1 + (rnd() - 0.5) / 50));
    const date = new Date(day0 + day * 86_400_000).toISOString().slice(0, 10);
    const r2 = (x: number) => Math.round(x * 100) / 100;
    yield {
      index: `SIM${String(sym).padStart(4, '0')}`,
      date,
      open: r2(p * 0.99),
      high: r2(p * 1.01),
      low: r2(p * 0.98),
      close: r2(p),
      adj_close: r2(p),
      volume: Math.floor(rnd() * 1e7),
      close_usd: r2(p),
      event_time: `${date}T21:00:00.000Z`,
    };
  }
}

export interface StagedLine {
  topic: string;
  partition: number;
  offset: number;
  record: Rec;
}

/** A hash of the key, as Kafka's default partitioner would spread keys (any stable hash will do here). */
function partitionOf(key: string, partitions: number): number {
  let h = 0;
  for (const ch of key) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return Math.abs(h) % partitions;
}

export interface Stager {
  /** stage records (keyed by index) as new objects; returns the object keys written */
  stage(records: Iterable<Rec>, opts?: { dt?: string; rawLines?: Map<number, string> }): Promise<string[]>;
  /** stage these exact lines (already enveloped, or garbage) as one object of a partition */
  stageLines(partition: number, firstOffset: number, lines: string[], dt?: string): Promise<string>;
  next: number[];
  lines: StagedLine[];
}

export function stager(store: ObjectStore, topic: string, opts: { partitions?: number; perObject?: number; timestamp?: 'iso' | 'ms'; track?: boolean } = {}): Stager {
  const partitions = opts.partitions ?? 6;
  const perObject = opts.perObject ?? 20_000;
  const next = Array.from({ length: partitions }, () => 0);
  const lines: StagedLine[] = [];
  const key = (p: number, first: number, last: number, dt: string) =>
    `staging/${topic}/dt=${dt}/${topic}+${p}+${String(first).padStart(20, '0')}+${String(last).padStart(20, '0')}.jsonl.gz`;
  async function put(k: string, text: string[]): Promise<void> {
    await store.put(k, gzipSync(Buffer.from(`${text.join('\n')}\n`)));
  }
  return {
    next,
    lines,
    async stage(records, o = {}) {
      const dt = o.dt ?? today();
      const buf: string[][] = Array.from({ length: partitions }, () => []);
      const first: number[] = [...next];
      const written: string[] = [];
      const flush = async (p: number) => {
        const b = buf[p]!;
        if (!b.length) return;
        const k = key(p, first[p]!, next[p]! - 1, dt);
        await put(k, b);
        written.push(k);
        buf[p] = [];
        first[p] = next[p]!;
      };
      let ts = Date.UTC(2026, 10, 21, 22);
      for (const r of records) {
        const p = partitionOf(String(r.index), partitions);
        const offset = next[p]!++;
        ts += 1;
        const env = { _topic: topic, _partition: p, _offset: offset, _timestamp: opts.timestamp === 'iso' ? new Date(ts).toISOString() : ts, _key: String(r.index) };
        buf[p]!.push(JSON.stringify({ ...r, ...env }));
        if (opts.track !== false) lines.push({ topic, partition: p, offset, record: r });
        if (buf[p]!.length >= perObject) await flush(p);
      }
      for (let p = 0; p < partitions; p++) await flush(p);
      return written;
    },
    async stageLines(p, firstOffset, text, dt = today()) {
      const k = key(p, firstOffset, firstOffset + text.length - 1, dt);
      await put(k, text);
      return k;
    },
  };
}
