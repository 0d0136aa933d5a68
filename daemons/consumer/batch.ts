// The open object of one partition: staging lines and dead letters of a run of consecutive offsets,
// closed by whichever comes first of flush.maxRecords, flush.maxBytes and flush.intervalMs.
import type { Outcome } from './records.js';

export interface Batch {
  first: number;
  last: number;
  /** staging lines and their offsets */
  lines: string[];
  offsets: number[];
  /** dead letters and their offsets */
  dead: string[];
  deadOffsets: number[];
  /** bytes of all lines held (UTF-16 length, close enough to bound memory) */
  bytes: number;
  /** clock time of the first record */
  openedAt: number;
  /** the generation of the group assignment this batch was read under */
  generation: number;
}

export interface FlushLimits {
  maxRecords: number;
  maxBytes: number;
  intervalMs: number;
}

export function openBatch(offset: number, now: number, generation: number): Batch {
  return { first: offset, last: offset, lines: [], offsets: [], dead: [], deadOffsets: [], bytes: 0, openedAt: now, generation };
}

export function add(b: Batch, offset: number, o: Outcome): void {
  if (o.ok) {
    b.lines.push(o.line);
    b.offsets.push(offset);
  } else {
    b.dead.push(o.line);
    b.deadOffsets.push(offset);
  }
  b.bytes += o.line.length + 1;
  b.last = offset;
}

export const records = (b: Batch): number => b.lines.length + b.dead.length;

/** full by count or size: close now */
export const isFull = (b: Batch, l: FlushLimits): boolean => records(b) >= l.maxRecords || b.bytes >= l.maxBytes;

/** old enough: close at the next tick */
export const isDue = (b: Batch, l: FlushLimits, now: number): boolean => now - b.openedAt >= l.intervalMs;

/** Drop the records at or below `offset` (already staged by someone else); undefined when none is left. */
export function trimThrough(b: Batch, offset: number): Batch | undefined {
  if (offset < b.first) return b;
  if (offset >= b.last) return undefined;
  const keep = (offs: number[]) => offs.findIndex((o) => o > offset);
  const i = keep(b.offsets);
  const j = keep(b.deadOffsets);
  const lines = i < 0 ? [] : b.lines.slice(i);
  const dead = j < 0 ? [] : b.dead.slice(j);
  const offsets = i < 0 ? [] : b.offsets.slice(i);
  const deadOffsets = j < 0 ? [] : b.deadOffsets.slice(j);
  const bytes = [...lines, ...dead].reduce((n, l) => n + l.length + 1, 0);
  return { ...b, first: offset + 1, lines, offsets, dead, deadOffsets, bytes };
}

/**
 * Newline-delimited bytes, one line per record, a newline after the last. Built in slices of lines, so the
 * text lives outside the JS heap (Buffers) instead of as one more heap string as large as the batch.
 */
export function ndjson(lines: string[]): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < lines.length; i += 1000) parts.push(Buffer.from(`${lines.slice(i, i + 1000).join('\n')}\n`, 'utf8'));
  return Buffer.concat(parts);
}
