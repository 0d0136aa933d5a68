// The ETL job spec: one JSON file per lake table under glue/tables/. It is the single source of the
// ETL's logic (columns, casts, renames, derived columns, dedup key, partitioning, file size); the
// DuckDB executor (daemons/local/etl) and the PySpark job (glue/etl_job.py) each interpret it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KafkalakeError } from '../errors.js';

export const COLUMN_TYPES = ['string', 'int', 'bigint', 'double', 'date', 'timestamp'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];
/** year, month (1–12), day (the UTC date, YYYY-MM-DD) and hour (0–23, UTC) of a date or timestamp column */
export const DERIVED_FNS = ['year', 'month', 'day', 'hour'] as const;
export const ENVELOPE = ['_topic', '_partition', '_offset', '_timestamp', '_key'] as const;

export interface ColumnSpec {
  /** the lake column */
  name: string;
  /** the JSON field it comes from (a rename); default: name */
  from?: string;
  type: ColumnType;
  /** a missing or null field is allowed (else the row is rejected) */
  nullable?: boolean;
}

export interface TypeRule {
  /** the JSON value's text must match this (the executors anchor it at both ends); "" accepts any */
  accept: string;
  /** timestamp only: text that is epoch milliseconds */
  acceptEpochMs?: string;
}

export interface TableSpec {
  version: 1;
  table: string;
  source: { topic: string; prefix: string };
  target: { prefix: string; maxRowsPerFile: number };
  dlq: { prefix: string };
  columns: ColumnSpec[];
  derived: { name: string; fn: (typeof DERIVED_FNS)[number]; of: string }[];
  businessKey: string[];
  partitionBy: string[];
  types: Record<ColumnType, TypeRule>;
}

function bad(where: string, what: string): KafkalakeError {
  return new KafkalakeError(`invalid ETL spec ${where}: ${what}`, { where });
}

const NAME = /^[a-z_][a-z0-9_]*$/;
const PREFIX = /^[A-Za-z0-9_.=-]+(\/[A-Za-z0-9_.=-]+)*\/$/;

/** Check a parsed spec; throws one line naming the file and the field. */
export function validateSpec(raw: unknown, where: string): TableSpec {
  if (!raw || typeof raw !== 'object') throw bad(where, 'not a JSON object');
  const s = raw as TableSpec;
  if (s.version !== 1) throw bad(where, `version must be 1, got ${JSON.stringify(s.version)}`);
  if (typeof s.table !== 'string' || !NAME.test(s.table)) throw bad(where, `table must match ${NAME.source}`);
  for (const [k, v] of [['source.prefix', s.source?.prefix], ['target.prefix', s.target?.prefix], ['dlq.prefix', s.dlq?.prefix]] as const) {
    if (typeof v !== 'string' || !PREFIX.test(v)) throw bad(where, `${k} must be a key prefix ending in "/", got ${JSON.stringify(v)}`);
  }
  if (typeof s.source.topic !== 'string' || !s.source.topic) throw bad(where, 'source.topic is required');
  if (!Number.isInteger(s.target.maxRowsPerFile) || s.target.maxRowsPerFile < 1) throw bad(where, 'target.maxRowsPerFile must be a positive integer');
  if (!Array.isArray(s.columns) || s.columns.length === 0) throw bad(where, 'columns must be a non-empty array');
  const names = new Set<string>();
  for (const c of s.columns) {
    if (!c || typeof c.name !== 'string' || !NAME.test(c.name)) throw bad(where, `column name ${JSON.stringify(c?.name)} must match ${NAME.source}`);
    if (names.has(c.name)) throw bad(where, `column ${c.name} appears twice`);
    names.add(c.name);
    if (!COLUMN_TYPES.includes(c.type)) throw bad(where, `column ${c.name}: type must be one of ${COLUMN_TYPES.join(', ')}`);
    if (c.from !== undefined && (typeof c.from !== 'string' || !/^[A-Za-z0-9_]+$/.test(c.from))) throw bad(where, `column ${c.name}: from must be a plain field name`);
  }
  for (const e of ENVELOPE) if (!names.has(e)) throw bad(where, `the envelope column ${e} is required (lake rows keep the envelope)`);
  for (const d of s.derived ?? []) {
    if (!NAME.test(d.name) || names.has(d.name)) throw bad(where, `derived column ${JSON.stringify(d.name)} must be a new column name`);
    if (!DERIVED_FNS.includes(d.fn)) throw bad(where, `derived ${d.name}: fn must be one of ${DERIVED_FNS.join(', ')}`);
    const of = s.columns.find((c) => c.name === d.of);
    if (!of || (of.type !== 'date' && of.type !== 'timestamp')) throw bad(where, `derived ${d.name}: of must name a date or timestamp column`);
    names.add(d.name);
  }
  for (const k of s.businessKey ?? []) if (!s.columns.some((c) => c.name === k)) throw bad(where, `businessKey ${k} is not a column`);
  for (const p of s.partitionBy ?? []) {
    if (!(s.derived ?? []).some((d) => d.name === p)) throw bad(where, `partitionBy ${p} must be a derived column (a function of the business key)`);
  }
  for (const t of COLUMN_TYPES) {
    const rule = s.types?.[t];
    if (!rule || typeof rule.accept !== 'string') throw bad(where, `types.${t}.accept is required`);
    for (const re of [rule.accept, rule.acceptEpochMs ?? '']) {
      try {
        new RegExp(re);
      } catch (err) {
        throw bad(where, `types.${t}: ${(err as Error).message}`);
      }
    }
  }
  return { ...s, derived: s.derived ?? [], businessKey: s.businessKey ?? [], partitionBy: s.partitionBy ?? [] };
}

export function loadSpecFile(file: string): TableSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new KafkalakeError(`cannot read the ETL spec: ${(err as Error).message}`, { where: file, cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw bad(file, (err as Error).message);
  }
  return validateSpec(raw, file);
}

/** Every table spec in a directory (the *.json files), sorted by table name. */
export function loadSpecs(dir: string): TableSpec[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch (err) {
    throw new KafkalakeError(`cannot list the ETL specs: ${(err as Error).message}`, { where: dir, cause: err });
  }
  if (files.length === 0) throw new KafkalakeError('no ETL table spec (*.json) found', { where: dir });
  const specs = files.map((f) => loadSpecFile(path.join(dir, f)));
  return specs.sort((a, b) => a.table.localeCompare(b.table));
}

/** The JSON field a column is read from. */
export const fieldOf = (c: ColumnSpec): string => c.from ?? c.name;
