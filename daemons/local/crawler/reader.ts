// Reading one object for the crawler: fetch its first bytes (and for Parquet only its footer),
// classify it, infer its schema. Anything unreadable comes back as { skip: reason }.
import path from 'node:path';
import { rm } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Bucket, ObjectInfo } from '../../lib/catalog/objects.js';
import type { Column, Compression, Format } from '../../lib/catalog/shapes.js';
import { oneLine } from '../../lib/errors.js';
import { classify } from './classify.js';
import { footerLength, inferCsv, inferJson, inferParquet, writeFooterFile } from './infer.js';

export interface ReadObject {
  format: Format;
  compression: Compression;
  delimiter?: string;
  header?: boolean;
  columns: Column[];
  rows?: number;
}

export interface ObjectReader {
  read(o: ObjectInfo): Promise<ReadObject | { skip: string }>;
}

const TAIL = 64 * 1024;

/** DuckDB work is serialised on the one connection; S3 reads run concurrently around it. */
export function objectReader(bucket: Bucket, conn: DuckDBConnection, dir: string, sampleBytes: number): ObjectReader {
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn, fn);
    chain = p.catch(() => undefined);
    return p;
  };
  let n = 0;

  async function parquet(o: ObjectInfo, head: Buffer, whole: boolean): Promise<ReadObject | { skip: string }> {
    let tail = whole ? head : await bucket.get(o.key, { suffix: Math.min(o.size, TAIL) });
    if (!tail) return { skip: 'the object disappeared while crawling' };
    const flen = footerLength(tail);
    if (flen === undefined) return { skip: 'corrupt Parquet: no PAR1 magic at the end (truncated or not Parquet)' };
    if (flen + 12 > o.size) return { skip: `corrupt Parquet: footer length ${flen} does not fit in ${o.size} bytes` };
    if (flen + 8 > tail.length) tail = await bucket.get(o.key, { suffix: flen + 8 });
    if (!tail) return { skip: 'the object disappeared while crawling' };
    const file = path.join(dir, `footer-${++n}.parquet`);
    try {
      await writeFooterFile(file, o.size, tail.subarray(Math.max(0, tail.length - (flen + 8))));
      const r = await serial(() => inferParquet(conn, file));
      return 'skip' in r ? r : { format: 'parquet', compression: 'none', columns: r.columns, ...(r.rows !== undefined ? { rows: r.rows } : {}) };
    } finally {
      await rm(file, { force: true });
    }
  }

  return {
    async read(o) {
      try {
        const len = Math.min(o.size, sampleBytes);
        const head = len > 0 ? await bucket.get(o.key, { start: 0, end: len - 1 }) : Buffer.alloc(0);
        if (!head) return { skip: 'the object disappeared while crawling' };
        const whole = len === o.size;
        const c = classify(head, o.size, whole);
        if ('skip' in c) return c;
        if (c.format === 'parquet') return await parquet(o, head, whole);
        const sample = c.sample ?? '';
        const r = await serial(() => (c.format === 'json' ? inferJson(conn, dir, sample) : inferCsv(conn, dir, sample, c.delimiter ?? ',')));
        if ('skip' in r) return r;
        return {
          format: c.format,
          compression: c.compression,
          columns: r.columns,
          ...(c.delimiter ? { delimiter: c.delimiter } : {}),
          ...(r.header !== undefined ? { header: r.header } : {}),
        };
      } catch (err) {
        return { skip: oneLine(err) };
      }
    },
  };
}
