// Schemas from content, read by DuckDB: a Parquet file's footer (the crawler fetches only the
// footer and places it in a sparse file of the object's size, so no data page is downloaded), or a
// JSON-lines/CSV sample. Types come back as Glue types (types.ts).
import { open, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Column } from '../../lib/catalog/shapes.js';
import { glueType } from './types.js';

export interface Inferred {
  columns: Column[];
  /** rows in the object when its metadata says (Parquet), else undefined */
  rows?: number;
  /** CSV: whether the first line is a header */
  header?: boolean;
}

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** Glue's column names: lower case, anything but letters, digits and _ made _. */
export function glueName(name: string): string {
  const n = name.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return /^column(\d+)$/.test(n) ? n.replace('column', 'col') : n;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
}

async function describe(conn: DuckDBConnection, from: string): Promise<Array<{ name: string; type: string }>> {
  const rows = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`)).getRowObjectsJS();
  return rows.map((r) => ({ name: r.column_name as string, type: r.column_type as string }));
}

/**
 * Place the tail of a Parquet object (footer + length + magic) at its offset in a sparse file of the
 * object's size, with the leading magic, so DuckDB reads the schema without the data pages.
 */
export async function writeFooterFile(file: string, size: number, tail: Buffer): Promise<void> {
  const fh = await open(file, 'w');
  try {
    await fh.truncate(size);
    await fh.write(Buffer.from('PAR1'), 0, 4, 0);
    await fh.write(tail, 0, tail.length, size - tail.length);
  } finally {
    await fh.close();
  }
}

/** The footer's length from the last 8 bytes (4-byte little-endian length, then "PAR1"). */
export function footerLength(tail: Buffer): number | undefined {
  if (tail.length < 8 || tail.subarray(tail.length - 4).toString('latin1') !== 'PAR1') return undefined;
  return tail.readUInt32LE(tail.length - 8);
}

export async function inferParquet(conn: DuckDBConnection, file: string): Promise<Inferred | { skip: string }> {
  try {
    const cols = await describe(conn, `read_parquet(${lit(file)})`);
    const meta = (await conn.runAndReadAll(`SELECT num_rows FROM parquet_file_metadata(${lit(file)})`)).getRowObjectsJS();
    return { columns: cols.map((c) => ({ Name: glueName(c.name), Type: glueType(c.type) })), rows: Number(meta[0]?.num_rows ?? 0) };
  } catch (err) {
    return { skip: `corrupt Parquet: ${firstLine(err)}` };
  }
}

async function inferText(conn: DuckDBConnection, dir: string, sample: string, reader: (f: string) => string, textDates: boolean): Promise<Inferred | { skip: string }> {
  const file = path.join(dir, `sample-${process.hrtime.bigint()}.txt`);
  await writeFile(file, sample);
  try {
    const from = reader(lit(file));
    const cols = await describe(conn, from);
    const ints = cols.filter((c) => c.type === 'BIGINT');
    let fits: Record<string, unknown> = {};
    if (ints.length) {
      const checks = ints.map((c, i) => `coalesce(bool_and(${ident(c.name)} BETWEEN -2147483648 AND 2147483647), true) AS f${i}`).join(', ');
      fits = (await conn.runAndReadAll(`SELECT ${checks} FROM ${from}`)).getRowObjectsJS()[0] ?? {};
    }
    const columns = cols.map((c) => ({ Name: glueName(c.name), Type: glueType(c.type, { fitsInt: fits[`f${ints.indexOf(c)}`] === true, textDates }) }));
    if (!from.startsWith('read_csv')) return { columns };
    const sniff = (await conn.runAndReadAll(`SELECT HasHeader FROM sniff_csv(${lit(file)})`)).getRowObjectsJS();
    return { columns, header: sniff[0]?.HasHeader === true };
  } catch (err) {
    return { skip: `cannot infer a schema: ${firstLine(err)}` };
  } finally {
    await rm(file, { force: true });
  }
}

export function inferJson(conn: DuckDBConnection, dir: string, sample: string) {
  // maximum_depth=2: top-level fields typed, nested values JSON → string (Athena's JSON SerDe reads them as text)
  return inferText(conn, dir, sample, (f) => `read_json(${f}, format='newline_delimited', sample_size=-1, maximum_depth=2)`, true);
}

export function inferCsv(conn: DuckDBConnection, dir: string, sample: string, delimiter: string) {
  return inferText(conn, dir, sample, (f) => `read_csv(${f}, delim=${lit(delimiter)}, sample_size=-1, all_varchar=false)`, true);
}
