// Source `csv`: replays a CSV file (plain or gzip, told apart by its magic bytes) as records, row by row,
// parsed by csv-parse. The first row is the header. A row with the wrong number of fields is skipped and
// reported with its line number (the caller counts it as failed); any other parse error stops the replay
// with a one-line error naming the file and line.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { KafkalakeError } from '../lib/errors.js';
import { castCell, type Fields, KEY_COLUMN, snakeCase, type SourceRecord } from './record.js';

export interface BadRow {
  file: string;
  /** 1-based line number in the (uncompressed) file */
  line: number;
  reason: string;
}

export interface CsvSourceOptions {
  file: string;
  /** replay from the top again when the file ends */
  loop?: boolean;
  /** told about every skipped row */
  onBadRow(bad: BadRow): void;
  signal?: AbortSignal;
}

const ERRNO: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'is a directory' };

/** Open the file, say clearly why not, and tell whether it is gzip. */
async function probe(file: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(file, 'r');
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    // the errno says it all: no cause chained, so the line stays "cannot read CSV F: no such file (ENOENT)"
    throw new KafkalakeError(`cannot read CSV ${file}: ${ERRNO[code] ?? (err as Error).message}${code ? ` (${code})` : ''}`, { where: file });
  } finally {
    await fh?.close();
  }
}

interface ParsedRow {
  record: string[];
  info: { lines: number };
}

async function* readOnce(opts: CsvSourceOptions, gzip: boolean): AsyncGenerator<SourceRecord> {
  const { file } = opts;
  const parser = parse({ relax_column_count: true, skip_empty_lines: true, bom: true, info: true });
  const input = createReadStream(file);
  const done = (gzip ? pipeline(input, createGunzip(), parser) : pipeline(input, parser)).catch((err: unknown) => err);
  let header: string[] | undefined;
  let keyAt = -1;
  try {
    for await (const row of parser as AsyncIterable<ParsedRow>) {
      const { record, info } = row;
      if (!header) {
        header = record.map(snakeCase);
        keyAt = header.indexOf(KEY_COLUMN);
        if (keyAt < 0) throw new KafkalakeError(`CSV ${file} has no "${KEY_COLUMN}" column (header: ${record.join(',')})`, { where: file });
        continue;
      }
      if (record.length !== header.length) {
        opts.onBadRow({ file, line: info.lines, reason: `expected ${header.length} fields, got ${record.length}` });
        continue;
      }
      const key = record[keyAt] ?? '';
      if (key === '') {
        opts.onBadRow({ file, line: info.lines, reason: `empty ${KEY_COLUMN}` });
        continue;
      }
      const fields: Fields = {};
      for (let i = 0; i < header.length; i++) fields[header[i] as string] = i === keyAt ? key : castCell(record[i] as string);
      yield { key, fields };
      if (opts.signal?.aborted) return;
    }
  } catch (err) {
    if (err instanceof KafkalakeError) throw err;
    const what = (err as { code?: string }).code?.startsWith('CSV_') ? 'cannot parse' : 'cannot read';
    throw new KafkalakeError(`${what} CSV ${file}: ${(err as Error).message}`, { where: file, cause: err });
  } finally {
    parser.destroy();
    input.destroy();
  }
  const failure = await done;
  if (failure) throw new KafkalakeError(`cannot read CSV ${file}: ${(failure as Error).message}`, { where: file, cause: failure });
  if (!header) throw new KafkalakeError(`CSV ${file} is empty (no header row)`, { where: file });
}

/**
 * Check the file can be read (a one-line error if not), then return its rows as records; again and
 * again with `loop`, until the signal aborts.
 */
export async function openCsv(opts: CsvSourceOptions): Promise<AsyncIterable<SourceRecord>> {
  const gzip = await probe(opts.file);
  return (async function* () {
    do {
      let rows = 0;
      for await (const r of readOnce(opts, gzip)) {
        rows++;
        yield r;
      }
      if (rows === 0 && opts.loop) throw new KafkalakeError(`CSV ${opts.file} has no valid rows to replay`, { where: opts.file });
    } while (opts.loop && !opts.signal?.aborted);
  })();
}
