// The open object of one partition: staging lines and dead letters of a run of consecutive offsets,
// closed by whichever comes first of flush.maxRecords, flush.maxBytes and flush.intervalMs.
//
// Lines are encoded to UTF-8 Buffers every ENCODE_EVERY lines, so an open batch lives outside the JS heap.
// A line built by concatenation is a tree of V8 string pieces several times its length; kept as strings,
// 42 MB of lines (a third of the 128 MB heap) took the whole heap and a backlog drain died out of memory.
import type { Outcome } from './records.js';

/** lines held as strings before they are encoded into one Buffer */
const ENCODE_EVERY = 512;

/** Newline-terminated lines: encoded chunks, then the newest lines not yet encoded. */
export interface Lines {
  chunks: Buffer[];
  pending: string[];
  /** the offset of every line, in order */
  offsets: number[];
}

export interface Batch {
  first: number;
  last: number;
  /** staging lines */
  good: Lines;
  /** dead letters */
  dead: Lines;
  /** bytes held: encoded chunks plus the pending lines' length */
  bytes: number;
  /** clock time of the first record */
  openedAt: number;
  /** the first record's Kafka timestamp (the producer's send time), ms; NaN when it has none */
  sentAt: number;
  /** the generation of the group assignment this batch was read under */
  generation: number;
}

export interface FlushLimits {
  maxRecords: number;
  maxBytes: number;
  intervalMs: number;
}

const emptyLines = (): Lines => ({ chunks: [], pending: [], offsets: [] });

export function openBatch(offset: number, now: number, generation: number, sentAt = Number.NaN): Batch {
  return { first: offset, last: offset, good: emptyLines(), dead: emptyLines(), bytes: 0, openedAt: now, sentAt, generation };
}

const encode = (lines: string[]): Buffer => Buffer.from(`${lines.join('\n')}\n`, 'utf8');

/** encode the pending lines into a chunk; returns the change in bytes held */
function seal(l: Lines): number {
  if (l.pending.length === 0) return 0;
  const chars = l.pending.reduce((n, s) => n + s.length + 1, 0);
  const chunk = encode(l.pending);
  l.chunks.push(chunk);
  l.pending = [];
  return chunk.length - chars;
}

export function add(b: Batch, offset: number, o: Outcome): void {
  const l = o.ok ? b.good : b.dead;
  l.pending.push(o.line);
  l.offsets.push(offset);
  b.bytes += o.line.length + 1;
  if (l.pending.length >= ENCODE_EVERY) b.bytes += seal(l);
  b.last = offset;
}

export const records = (b: Batch): number => b.good.offsets.length + b.dead.offsets.length;

/** full by count or size: close now */
export const isFull = (b: Batch, l: FlushLimits): boolean => records(b) >= l.maxRecords || b.bytes >= l.maxBytes;

/** old enough: close at the next tick */
export const isDue = (b: Batch, l: FlushLimits, now: number): boolean => now - b.openedAt >= l.intervalMs;

/** The object's body: newline-delimited, one line per record, a newline after the last. */
export function ndjson(l: Lines): Buffer {
  seal(l);
  return l.chunks.length === 1 && l.chunks[0] ? l.chunks[0] : Buffer.concat(l.chunks);
}

/** every line, decoded again (lines hold no raw newline: JSON escapes it) */
function lineTexts(l: Lines): string[] {
  const encoded = l.chunks.length ? Buffer.concat(l.chunks).toString('utf8').slice(0, -1).split('\n') : [];
  return [...encoded, ...l.pending];
}

/** the lines after `offset`, and their length */
function linesAfter(l: Lines, offset: number): { lines: Lines; chars: number } {
  const i = l.offsets.findIndex((o) => o > offset);
  if (i < 0) return { lines: emptyLines(), chars: 0 };
  const kept = lineTexts(l).slice(i);
  return { lines: { chunks: [], pending: kept, offsets: l.offsets.slice(i) }, chars: kept.reduce((n, s) => n + s.length + 1, 0) };
}

/** Drop the records at or below `offset` (already staged by someone else); undefined when none is left. */
export function trimThrough(b: Batch, offset: number): Batch | undefined {
  if (offset < b.first) return b;
  if (offset >= b.last) return undefined;
  const good = linesAfter(b.good, offset);
  const dead = linesAfter(b.dead, offset);
  return { ...b, first: offset + 1, good: good.lines, dead: dead.lines, bytes: good.chars + dead.chars };
}
