// The DuckDB reading of a job spec: the SQL that parses staged JSON lines, casts them per the spec's
// type rules (a value that does not match its type's pattern or does not cast rejects the row, with
// the reason), and merges the good rows with a partition's existing rows (dedup on the envelope, then
// on the business key keeping the latest offset). glue/etl_job.py is the same reading in PySpark.
import { type ColumnSpec, type ColumnType, fieldOf, type TableSpec } from '../../lib/etl/spec.js';

export const DUCK_TYPES: Record<ColumnType, string> = {
  string: 'VARCHAR',
  int: 'INTEGER',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  date: 'DATE',
  timestamp: 'TIMESTAMPTZ',
};

export const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
export const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
/** the spec's patterns match the whole value: ^(?:P)\z in RE2 and in Java alike */
const anchored = (re: string) => `^(?:${re})\\z`;

function matches(raw: string, re: string | undefined): string {
  return re ? `regexp_matches(${raw}, ${lit(anchored(re))})` : 'true';
}

function castExpr(spec: TableSpec, c: ColumnSpec, raw: string): string {
  const rule = spec.types[c.type];
  const ok = matches(raw, rule.accept);
  switch (c.type) {
    case 'string':
      return rule.accept ? `CASE WHEN ${ok} THEN ${raw} END` : raw;
    case 'bigint':
      return `CASE WHEN ${ok} THEN TRY_CAST(regexp_replace(${raw}, '[.]0+$', '') AS BIGINT) END`;
    case 'timestamp':
      return (
        `CASE WHEN ${matches(raw, rule.acceptEpochMs)} THEN epoch_ms(TRY_CAST(${raw} AS BIGINT))::TIMESTAMPTZ ` +
        `WHEN ${ok} THEN TRY_CAST(${raw} AS TIMESTAMPTZ) END`
      );
    default:
      return `CASE WHEN ${ok} THEN TRY_CAST(${raw} AS ${DUCK_TYPES[c.type]}) END`;
  }
}

/** raw(source, line) → typed(source, line, reason, <columns>): reason is NULL for a good row. */
export function typedSql(spec: TableSpec): string {
  const cols = spec.columns;
  const paths = cols.map((c) => lit(`$.${fieldOf(c)}`)).join(', ');
  const raws = cols.map((_, i) => `f[${i + 1}] AS r${i}`).join(', ');
  const casts = cols.map((c, i) => `${castExpr(spec, c, `r${i}`)} AS v${i}`).join(',\n    ');
  const reasons = cols.map((c, i) => {
    const missing = c.nullable ? 'NULL' : lit(`field "${fieldOf(c)}" is missing or null`);
    return `CASE WHEN r${i} IS NULL THEN ${missing} WHEN v${i} IS NULL THEN ${lit(`field "${fieldOf(c)}" is not a ${c.type}: `)} || left(r${i}, 64) END`;
  });
  const out = cols.map((c, i) => `v${i} AS ${ident(c.name)}`).join(', ');
  return `CREATE OR REPLACE TEMP TABLE typed AS
WITH p AS (
  SELECT source, line, CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END AS ok_json FROM raw
), f AS (
  SELECT source, line, ok_json, CASE WHEN ok_json THEN json_extract_string(line, [${paths}]) END AS f FROM p
), r AS (
  SELECT source, line, ok_json, ${raws} FROM f
), v AS (
  SELECT *,
    ${casts}
  FROM r
)
SELECT source, line,
  CASE WHEN NOT ok_json THEN 'not a JSON object' ELSE coalesce(${reasons.join(', ')}) END AS reason,
  ${out}
FROM v`;
}

const derivedExpr = (d: TableSpec['derived'][number]) => `${d.fn}(${ident(d.of)})`;

export const keyOrder = (spec: TableSpec) => [...spec.businessKey, '_topic', '_partition', '_offset'].map(ident).join(', ');

/**
 * fresh ∪ existing → merged(<columns>, <derived>, _file_no): one row per envelope, then one per
 * business key (latest _offset wins), numbered into files of at most maxRowsPerFile per partition.
 */
export function mergedSql(spec: TableSpec, existingFiles: string[]): string {
  const cols = spec.columns.map((c) => ident(c.name)).join(', ');
  const existing = existingFiles.length
    ? `\n  UNION ALL SELECT ${spec.columns.map((c) => `CAST(${ident(c.name)} AS ${DUCK_TYPES[c.type]}) AS ${ident(c.name)}`).join(', ')} FROM read_parquet([${existingFiles.map(lit).join(', ')}])`
    : '';
  const bk = spec.businessKey.length
    ? `SELECT * FROM d1 QUALIFY row_number() OVER (PARTITION BY ${spec.businessKey.map(ident).join(', ')} ORDER BY "_offset" DESC, "_partition" DESC, "_topic" DESC) = 1`
    : 'SELECT * FROM d1';
  const derived = spec.derived.map((d) => `${derivedExpr(d)} AS ${ident(d.name)}`).join(', ');
  const parts = spec.partitionBy.map(ident).join(', ');
  return `CREATE OR REPLACE TEMP TABLE merged AS
WITH u AS (
  SELECT ${cols} FROM typed WHERE reason IS NULL${existing}
), d1 AS (
  SELECT * FROM u QUALIFY row_number() OVER (PARTITION BY "_topic", "_partition", "_offset" ORDER BY "_timestamp" DESC) = 1
), d2 AS (
  ${bk}
), d3 AS (
  SELECT *${derived ? `, ${derived}` : ''} FROM d2
)
SELECT *, (row_number() OVER (${parts ? `PARTITION BY ${parts} ` : ''}ORDER BY ${keyOrder(spec)}) - 1) // ${spec.target.maxRowsPerFile} AS _file_no FROM d3`;
}

/** The partitions the good rows of this run touch. */
export function affectedPartitionsSql(spec: TableSpec): string {
  if (!spec.partitionBy.length) return 'SELECT 1 AS _all';
  const derived = spec.derived.filter((d) => spec.partitionBy.includes(d.name));
  return `SELECT DISTINCT ${derived.map((d) => `${derivedExpr(d)} AS ${ident(d.name)}`).join(', ')} FROM typed WHERE reason IS NULL ORDER BY ALL`;
}

/** One lake file: the rows of one partition and file number, in key order, without the partition columns. */
export function fileSelectSql(spec: TableSpec, values: Record<string, string | number>, fileNo: number): string {
  const where = [...spec.partitionBy.map((p) => `${ident(p)} = ${typeof values[p] === 'number' ? String(values[p]) : lit(String(values[p]))}`), `_file_no = ${fileNo}`].join(' AND ');
  return `SELECT ${spec.columns.map((c) => ident(c.name)).join(', ')} FROM merged WHERE ${where} ORDER BY ${keyOrder(spec)}`;
}
