// What an object is, judged by its bytes as Glue's built-in classifiers do: Parquet by its magic,
// gzip by its magic (then the decompressed text is classified), JSON lines when every sampled line is
// a JSON object, CSV when the sample parses to rows of one width with a delimiter Glue knows.
import { gunzipSync, constants } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Compression, Format } from '../../lib/catalog/shapes.js';

export interface Classified {
  format: Format;
  compression: Compression;
  /** json/csv: whole lines of (decompressed) text from the start of the object */
  sample?: string;
  delimiter?: string;
}

export interface Unreadable {
  skip: string;
}

const PAR1 = Buffer.from('PAR1');
const DELIMITERS = [',', '\t', '|', ';'];

function isText(s: string): boolean {
  if (s.includes('\u0000')) return false;
  const bad = (s.match(/\uFFFD/g) ?? []).length;
  return bad <= s.length / 100;
}

function jsonObject(line: string): boolean {
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

function csvDelimiter(lines: string[]): string | undefined {
  const text = lines.join('\n');
  for (const d of DELIMITERS) {
    if (!lines[0]?.includes(d)) continue;
    try {
      const rows = parseCsv(text, { delimiter: d, relax_quotes: false, skip_empty_lines: true }) as string[][];
      const width = rows[0]?.length ?? 0;
      if (width >= 2 && rows.every((r) => r.length === width)) return d;
    } catch {
      // not this delimiter
    }
  }
  return undefined;
}

/**
 * Classify an object from its first bytes. `head` is the start of the object; `whole` says whether
 * it is all of it (otherwise the last, partial line of the sample is dropped).
 */
export function classify(head: Buffer, size: number, whole: boolean): Classified | Unreadable {
  if (size === 0) return { skip: 'empty object' };
  if (head.subarray(0, 4).equals(PAR1)) return { format: 'parquet', compression: 'none' };
  let bytes = head;
  let compression: Compression = 'none';
  let complete = whole;
  if (head[0] === 0x1f && head[1] === 0x8b) {
    compression = 'gzip';
    try {
      bytes = gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch (err) {
      return { skip: `gzip data is corrupt: ${(err as Error).message}` };
    }
    if (bytes.length === 0) return { skip: 'empty object (gzip of nothing)' };
    if (bytes.subarray(0, 4).equals(PAR1)) return { skip: 'gzip-compressed Parquet (Athena cannot read it)' };
    complete = whole;
  }
  const text = bytes.toString('utf8');
  if (!isText(text)) return { skip: 'not Parquet, JSON lines or CSV (binary content)' };
  let lines = text.split(/\r?\n/);
  if (!complete) lines = lines.slice(0, -1);
  lines = lines.filter((l) => l.trim() !== '');
  if (lines.length === 0) return { skip: complete ? 'no data (only blank lines)' : 'no complete line in the sampled bytes' };
  const sample = `${lines.join('\n')}\n`;
  if (lines[0]!.trimStart().startsWith('{')) {
    const bad = lines.findIndex((l) => !jsonObject(l));
    if (bad === -1) return { format: 'json', compression, sample };
    return { skip: `JSON lines, but line ${bad + 1} is not a JSON object` };
  }
  const delimiter = csvDelimiter(lines);
  if (delimiter) return { format: 'csv', compression, sample, delimiter };
  return { skip: 'not Parquet, JSON lines or CSV' };
}
