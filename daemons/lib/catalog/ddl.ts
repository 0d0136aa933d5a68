// The tables of sql/ddl/*.sql as Glue TableInputs, so `kafkalake bootstrap` creates them from the same
// definitions an Athena user runs: columns, partition keys, location, SerDe and table properties come
// from the DDL, the storage shape (input/output format, SerDe library) from the crawler's shapes, so a
// bootstrapped table is one the crawler later updates like its own. Each file opens with "-- key:
// value" lines: name (the file's base name), description, and "bootstrap: create" for the tables
// bootstrap makes (the ones nothing else catalogues before they hold data: staging and DLQ).
import path from 'node:path';
import type { Column as GlueColumn, TableInput } from '@aws-sdk/client-glue';
import { parseSqlDir, sqlHeader } from '../athena/saved.js';
import { KafkalakeError } from '../errors.js';
import { type Column, type Compression, type Format, storageDescriptor, type TableModel } from './shapes.js';

/** The table definitions, relative to the project root. */
export const DDL_DIR = 'sql/ddl';

export interface DdlTable {
  name: string;
  file: string;
  description: string;
  /** created by `kafkalake bootstrap` */
  bootstrap: boolean;
  format: Format;
  compression: Compression;
  columns: Column[];
  partitionKeys: Column[];
  /** with the ${BUCKET} placeholder */
  location: string;
  serdeProperties: Record<string, string>;
  tblProperties: Record<string, string>;
}

/** The text between the parenthesis at `open` and its match. */
function enclosed(text: string, open: number, bad: (w: string) => Error): { inner: string; end: number } {
  let depth = 0;
  let quote = '';
  for (let i = open; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = '';
    } else if (ch === "'" || ch === '`') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return { inner: text.slice(open + 1, i), end: i + 1 };
  }
  throw bad('unbalanced parentheses');
}

/** "a int, b decimal(10,2), c struct<x:int,y:int>" split at the top-level commas. */
function splitTop(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of list) {
    if (ch === '(' || ch === '<') depth++;
    else if (ch === ')' || ch === '>') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter(Boolean);
}

function columnsOf(list: string, bad: (w: string) => Error): Column[] {
  return splitTop(list).map((item) => {
    const m = /^`?([A-Za-z_][A-Za-z0-9_]*)`?\s+(\S.*)$/s.exec(item);
    if (!m) throw bad(`cannot read the column definition "${item}"`);
    return { Name: m[1]!.toLowerCase(), Type: m[2]!.trim().toLowerCase() };
  });
}

const properties = (list: string) => Object.fromEntries([...list.matchAll(/'([^']*)'\s*=\s*'([^']*)'/g)].map((m) => [m[1]!, m[2]!]));

export function parseDdl(file: string, text: string): DdlTable {
  const header = sqlHeader(text);
  const bad = (what: string) => new KafkalakeError(`table definition: ${what}`, { where: file });
  const name = path.basename(file, '.sql');
  if (header.name !== name) throw bad(`"-- name: ${name}" expected (the file's base name), got ${header.name ? `"${header.name}"` : 'none'}`);
  if (!header.description) throw bad('"-- description: ..." missing');
  if (header.bootstrap !== undefined && header.bootstrap !== 'create') throw bad(`"-- bootstrap: create" or no bootstrap line expected, got "${header.bootstrap}"`);

  const body = text.replace(/--[^\n]*/g, '');
  const create = /CREATE\s+EXTERNAL\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?([A-Za-z0-9_]+)`?\s*\(/i.exec(body);
  if (!create) throw bad('no CREATE EXTERNAL TABLE <name> (...) statement');
  if (create[1]!.toLowerCase() !== name) throw bad(`the statement creates "${create[1]}", the file is named ${name}`);
  const cols = enclosed(body, create.index + create[0].length - 1, bad);
  const rest = body.slice(cols.end);
  const part = /PARTITIONED\s+BY\s*\(/i.exec(rest);
  const clause = (re: RegExp) => {
    const m = re.exec(rest);
    return m ? enclosed(rest, m.index + m[0].length - 1, bad).inner : '';
  };
  const location = /LOCATION\s+'([^']+)'/i.exec(rest)?.[1];
  if (!location) throw bad("no LOCATION 's3://...'");
  const tblProperties = properties(clause(/TBLPROPERTIES\s*\(/i));
  const format = tblProperties.classification;
  if (format !== 'json' && format !== 'parquet') throw bad(`TBLPROPERTIES 'classification' must be json or parquet (the formats bootstrap writes), got ${format ? `"${format}"` : 'none'}`);
  return {
    name,
    file,
    description: header.description,
    bootstrap: header.bootstrap === 'create',
    format,
    compression: tblProperties.compressionType === 'gzip' ? 'gzip' : 'none',
    columns: columnsOf(cols.inner, bad),
    partitionKeys: part ? columnsOf(enclosed(rest, part.index + part[0].length - 1, bad).inner, bad) : [],
    location,
    serdeProperties: properties(clause(/SERDEPROPERTIES\s*\(/i)),
    tblProperties,
  };
}

export function loadDdl(dir: string): DdlTable[] {
  return parseSqlDir(dir, 'table definitions', parseDdl);
}

/** The Glue table the DDL makes in `bucket`, in the storage shape the crawler writes for its format. */
export function ddlTableInput(d: DdlTable, bucket: string): TableInput {
  const sub = (s: string) => s.replaceAll('${BUCKET}', bucket);
  const location = sub(d.location);
  const model: TableModel = {
    name: d.name,
    format: d.format,
    compression: d.compression,
    columns: d.columns,
    partitionKeys: d.partitionKeys.map((k) => k.Name),
    location,
    objectCount: 0,
    recordCount: 0,
    sizeBytes: 0,
  };
  const sd = storageDescriptor(model, location);
  sd.SerdeInfo = { ...sd.SerdeInfo, Parameters: { ...sd.SerdeInfo?.Parameters, ...d.serdeProperties } };
  const tbl = Object.fromEntries(Object.entries(d.tblProperties).map(([k, v]) => [k, sub(v)]));
  return {
    Name: d.name,
    Description: d.description,
    TableType: 'EXTERNAL_TABLE',
    StorageDescriptor: sd,
    PartitionKeys: d.partitionKeys.map((k): GlueColumn => ({ Name: k.Name, Type: k.Type })),
    Parameters: { ...sd.Parameters, ...tbl, EXTERNAL: 'TRUE', CREATED_BY: `kafkalake bootstrap (sql/ddl/${d.name}.sql)` },
  };
}
