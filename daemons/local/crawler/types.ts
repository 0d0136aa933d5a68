// Glue column types as the crawler infers and reconciles them: a DuckDB type (from a Parquet footer
// or a JSON/CSV sample) becomes the Hive type a Glue crawler writes, and two files' types of one
// column widen as Glue's do (int → bigint → double; date → timestamp), anything else falling back to string.
import type { Column } from '../../lib/catalog/shapes.js';

const NUMERIC_RANK: Record<string, number> = { tinyint: 1, smallint: 2, int: 3, bigint: 4, float: 5, double: 6 };

export function widen(a: string, b: string): string {
  if (a === b) return a;
  const ra = NUMERIC_RANK[a];
  const rb = NUMERIC_RANK[b];
  if (ra !== undefined && rb !== undefined) {
    const hi = ra > rb ? a : b;
    // a float cannot hold every int/bigint: Glue makes the pair double
    return hi === 'float' && Math.min(ra, rb) >= NUMERIC_RANK.int! ? 'double' : hi;
  }
  if ((a === 'date' && b === 'timestamp') || (a === 'timestamp' && b === 'date')) return 'timestamp';
  return 'string';
}

/** Columns of both, in first-seen order, types widened; a column one file lacks stays (nullable in Hive). */
export function mergeColumns(base: readonly Column[], add: readonly Column[]): Column[] {
  const out = base.map((c) => ({ ...c }));
  for (const c of add) {
    const cur = out.find((o) => o.Name === c.Name);
    if (cur) cur.Type = widen(cur.Type, c.Type);
    else out.push({ ...c });
  }
  return out;
}

export function sameColumns(a: readonly Column[], b: readonly Column[]): boolean {
  return a.length === b.length && a.every((c, i) => c.Name === b[i]?.Name && c.Type === b[i]?.Type);
}

/** Describe how b differs from a: "added x int; y int→double". */
export function describeChange(a: readonly Column[], b: readonly Column[]): string {
  const parts: string[] = [];
  for (const c of b) {
    const old = a.find((o) => o.Name === c.Name);
    if (!old) parts.push(`added ${c.Name} ${c.Type}`);
    else if (old.Type !== c.Type) parts.push(`${c.Name} ${old.Type}→${c.Type}`);
  }
  for (const c of a) if (!b.some((n) => n.Name === c.Name)) parts.push(`dropped ${c.Name}`);
  return parts.join('; ') || 'no change';
}

/**
 * A DuckDB type name → the Glue (Hive) type. For JSON/CSV samples `range` says whether the sampled
 * integers fit in 32 bits (Glue's classifiers write int for those, bigint beyond); JSON strings stay
 * strings even when they look like dates, as Glue's JSON classifier leaves them.
 */
export function glueType(duck: string, opts: { fitsInt?: boolean; textDates?: boolean } = {}): string {
  const t = duck.toUpperCase().trim();
  const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (dec) return `decimal(${dec[1]},${dec[2]})`;
  switch (t) {
    case 'BOOLEAN':
      return 'boolean';
    case 'TINYINT':
      return 'tinyint';
    case 'SMALLINT':
      return 'smallint';
    case 'INTEGER':
    case 'UTINYINT':
    case 'USMALLINT':
      return 'int';
    case 'BIGINT':
    case 'UINTEGER':
      return opts.fitsInt ? 'int' : 'bigint';
    case 'FLOAT':
      return 'float';
    case 'DOUBLE':
      return 'double';
    case 'DATE':
      return opts.textDates ? 'string' : 'date';
    case 'TIMESTAMP':
    case 'TIMESTAMP WITH TIME ZONE':
    case 'TIMESTAMP_MS':
    case 'TIMESTAMP_NS':
    case 'TIMESTAMP_S':
      return opts.textDates ? 'string' : 'timestamp';
    case 'BLOB':
      return 'binary';
    default:
      return 'string';
  }
}

/** A Glue type → the DuckDB type the local SQL engine casts the column to. */
export function duckType(glue: string): string {
  const t = glue.toLowerCase().trim();
  const dec = /^decimal\((\d+),\s*(\d+)\)$/.exec(t);
  if (dec) return `DECIMAL(${dec[1]},${dec[2]})`;
  const map: Record<string, string> = {
    boolean: 'BOOLEAN',
    tinyint: 'TINYINT',
    smallint: 'SMALLINT',
    int: 'INTEGER',
    integer: 'INTEGER',
    bigint: 'BIGINT',
    float: 'FLOAT',
    double: 'DOUBLE',
    date: 'DATE',
    timestamp: 'TIMESTAMP',
    binary: 'BLOB',
  };
  return map[t] ?? 'VARCHAR';
}
