// The DuckDB reading of a job spec: the SQL that parses staged JSON lines, casts them per the spec's
// type rules (a value that does not match its type's pattern or does not cast rejects the row, with
// the reason), and merges the good rows with a partition's existing rows (dedup on the envelope, then
// on the business key keeping the latest offset). glue/etl_job.py is the same reading in PySpark.
import { type ColumnSpec, type ColumnType, fieldOf, type TableSpec } from '../../lib/etl/spec.js';
import { MAX_JSON_DEPTH, MAX_JSON_NUMBER_DIGITS } from '../../lib/json-shape.js';

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

/**
 * A line Spark's JSON reader (Jackson) would not read: nested deeper than MAX_JSON_DEPTH, or a number of
 * more than MAX_JSON_NUMBER_DIGITS digits. Only a line longer than both limits can be, so only such a line
 * is looked at: its strings blanked, then the digits of each number counted and the brackets summed in order.
 */
function beyondLimitsSql(line: string): string {
  const limit = Math.min(MAX_JSON_DEPTH, MAX_JSON_NUMBER_DIGITS);
  const bare = `regexp_replace(${line}, ${lit('"(?:[^"\\\\]|\\\\.)*"')}, '""', 'g')`;
  const digits = `list_max(list_transform(regexp_extract_all(${bare}, '[0-9][0-9.eE+-]*'), lambda x: length(regexp_replace(x, '[^0-9]', '', 'g'))))`;
  // depth: a running sum of +1 ([ {) and -1 (] }); the fold keeps (deepest so far, depth now) in one number
  const step = `${2 ** 20}::BIGINT`;
  const moves = `list_transform(string_split(regexp_replace(${bare}, '[^\\[\\]{}]', '', 'g'), ''), lambda c: CASE WHEN c IN ('[', '{') THEN 1::BIGINT ELSE -1::BIGINT END)`;
  const depth = `list_reduce(${moves}, lambda acc, x: greatest(acc // ${step}, acc % ${step} + x) * ${step} + (acc % ${step} + x), 0::BIGINT) // ${step}`;
  // a CASE, not AND: only its branch is evaluated for the rows it selects, so a short line costs a length
  return `(CASE WHEN length(${line}) > ${limit} THEN coalesce(${digits}, 0) > ${MAX_JSON_NUMBER_DIGITS} OR ${depth} > ${MAX_JSON_DEPTH} ELSE false END)`;
}

/** The first of a JSON object's top-level keys (json_keys keeps duplicates, in order) seen a second time, or NULL. */
function duplicateKeySql(keys: string): string {
  return `CASE WHEN len(list_distinct(${keys})) < len(${keys}) THEN list_filter(${keys}, lambda x, i: list_position(${keys}, x) < i)[1] END`;
}

/** A reason's quoted name, as glue/etl_job.py quotes it: backslashes and double quotes escaped. */
const quotedSql = (e: string) => `'"' || replace(replace(${e}, '\\', '\\\\'), '"', '\\"') || '"'`;

/**
 * raw(source, line) → typed(source, line, reason, <columns>): reason is NULL for a good row. The reasons,
 * first that applies: not a JSON object (or one Spark would not read); a duplicate top-level key; then per
 * column, a missing or null field, a string column given a number, true/false, an array or an object (whose
 * text the two executors would render differently), a value that does not match or cast to its type.
 */
export function typedSql(spec: TableSpec): string {
  const cols = spec.columns;
  const paths = cols.map((c) => lit(`$.${fieldOf(c)}`)).join(', ');
  const raws = cols.map((_, i) => `f[${i + 1}] AS r${i}`).join(', ');
  // the JSON type of every field the spec names (NULL: absent): a string column's must be VARCHAR, and when
  // the object has as many keys as the spec has fields and each field is there, no key can be duplicated
  // (the costly check, json_keys' list made distinct, is left for the other objects)
  const fields = [...new Set(cols.map(fieldOf))];
  const kinds = `, CASE WHEN ok_json THEN json_type(line, [${fields.map((f) => lit(`$.${f}`)).join(', ')}]) END AS k`;
  const kindOf = (c: ColumnSpec) => `k[${fields.indexOf(fieldOf(c)) + 1}]`;
  const dup = `CASE WHEN len(keys) = ${fields.length} AND list_count(k) = ${fields.length} THEN NULL ELSE ${duplicateKeySql('keys')} END`;
  const casts = cols.map((c, i) => `${castExpr(spec, c, `r${i}`)} AS v${i}`).join(',\n    ');
  const reasons = cols.map((c, i) => {
    const missing = c.nullable ? 'NULL' : lit(`field "${fieldOf(c)}" is missing or null`);
    const notString = c.type === 'string' ? ` WHEN ${kindOf(c)} NOT IN ('VARCHAR', 'NULL') THEN ${lit(`field "${fieldOf(c)}" is not a string`)}` : '';
    return `CASE WHEN r${i} IS NULL THEN ${missing}${notString} WHEN v${i} IS NULL THEN ${lit(`field "${fieldOf(c)}" is not a ${c.type}`)} END`;
  });
  const out = cols.map((c, i) => `v${i} AS ${ident(c.name)}`).join(', ');
  return `CREATE OR REPLACE TEMP TABLE typed AS
WITH p AS (
  SELECT source, line, CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' AND NOT ${beyondLimitsSql('line')} ELSE false END AS ok_json FROM raw
), f AS (
  SELECT source, line, ok_json, CASE WHEN ok_json THEN json_extract_string(line, [${paths}]) END AS f,
    CASE WHEN ok_json THEN json_keys(line) END AS keys${kinds} FROM p
), r AS (
  SELECT source, line, ok_json, ${dup} AS dup, k, ${raws} FROM f
), v AS (
  SELECT *,
    ${casts}
  FROM r
)
SELECT source, line,
  CASE WHEN NOT ok_json THEN 'not a JSON object' WHEN dup IS NOT NULL THEN 'duplicate key ' || ${quotedSql('dup')} ELSE coalesce(${reasons.join(', ')}) END AS reason,
  ${out}
FROM v`;
}

/** A derived column (DuckDB's day() is the day of the month: the spec's day is the date). */
const derivedExpr = (d: TableSpec['derived'][number]) => (d.fn === 'day' ? `CAST(${ident(d.of)} AS DATE)` : `${d.fn}(${ident(d.of)})`);

export const keyOrder = (spec: TableSpec) => [...spec.businessKey, '_topic', '_partition', '_offset'].map(ident).join(', ');

/** u(<columns>) → one row per envelope, then one per business key (latest _offset wins). */
function dedupSql(spec: TableSpec, u: string): string {
  const bk = spec.businessKey.length
    ? `SELECT * FROM d1 QUALIFY row_number() OVER (PARTITION BY ${spec.businessKey.map(ident).join(', ')} ORDER BY "_offset" DESC, "_partition" DESC, "_topic" DESC) = 1`
    : 'SELECT * FROM d1';
  return `WITH u AS (
  ${u}
), d1 AS (
  SELECT * FROM u QUALIFY row_number() OVER (PARTITION BY "_topic", "_partition", "_offset" ORDER BY "_timestamp" DESC) = 1
)
${bk}`;
}

/** The partition columns as text (folder names and Glue partition values are text). */
const partitionText = (spec: TableSpec) => spec.derived.filter((d) => spec.partitionBy.includes(d.name)).map((d) => `CAST(${derivedExpr(d)} AS VARCHAR) AS ${ident(d.name)}`);

/** typed → batch(<columns>, <partition columns as text>): the run's good rows, deduplicated. */
export function batchSql(spec: TableSpec): string {
  const cols = spec.columns.map((c) => ident(c.name)).join(', ');
  const parts = partitionText(spec);
  return `CREATE OR REPLACE TEMP TABLE batch AS
SELECT *${parts.length ? `, ${parts.join(', ')}` : ''} FROM (
${dedupSql(spec, `SELECT ${cols} FROM typed WHERE reason IS NULL`)}
)`;
}

/** The partitions the batch touches, with their row counts. */
export const batchPartitionsSql = (spec: TableSpec) =>
  spec.partitionBy.length ? `SELECT ${spec.partitionBy.map(ident).join(', ')}, count(*) AS n FROM batch GROUP BY ALL ORDER BY ALL` : 'SELECT count(*) AS n FROM batch';

/** The batch's rows of one partition. */
export const partitionWhere = (spec: TableSpec, values: Record<string, string>) => spec.partitionBy.map((p) => `${ident(p)} = ${lit(values[p]!)}`).join(' AND ') || 'true';

/**
 * rows of `from` (e.g. "batch WHERE …"; none when undefined) ∪ the rows of the files → rw(<columns>),
 * deduplicated: a copy-on-write merges the batch with the files it rewrites, a compaction only files.
 */
export function rewriteSql(spec: TableSpec, from: string | undefined, files: string[]): string {
  const parts: string[] = [];
  if (from) parts.push(`SELECT ${spec.columns.map((c) => ident(c.name)).join(', ')} FROM ${from}`);
  if (files.length) parts.push(`SELECT ${spec.columns.map((c) => `CAST(${ident(c.name)} AS ${DUCK_TYPES[c.type]}) AS ${ident(c.name)}`).join(', ')} FROM read_parquet([${files.map(lit).join(', ')}])`);
  return `CREATE OR REPLACE TEMP TABLE rw AS
${dedupSql(spec, parts.join('\n  UNION ALL '))}`;
}

/** A set of rows (a SELECT with the spec's columns) numbered into files: out(<columns>, _file_no). */
export function numberedSql(spec: TableSpec, source: string): string {
  return `CREATE OR REPLACE TEMP TABLE out AS
SELECT ${spec.columns.map((c) => ident(c.name)).join(', ')}, (row_number() OVER (ORDER BY ${keyOrder(spec)}) - 1) // ${spec.target.maxRowsPerFile} AS _file_no FROM (${source})`;
}

/** One file of `out`, in key order. */
export const fileSql = (spec: TableSpec, fileNo: number) => `SELECT ${spec.columns.map((c) => ident(c.name)).join(', ')} FROM out WHERE _file_no = ${fileNo} ORDER BY ${keyOrder(spec)}`;

/** A key column's value as the manifest keeps it (glue/README.md, Formats). */
function asManifestValue(spec: TableSpec, col: string, agg: string): string {
  const type = spec.columns.find((c) => c.name === col)?.type;
  const e = `${agg}(${ident(col)})`;
  if (type === 'date') return `strftime(${e}, '%Y-%m-%d')`;
  if (type === 'timestamp') return `strftime(${e}, '%Y-%m-%dT%H:%M:%S.%fZ')`;
  if (type === 'int' || type === 'bigint') return `CAST(${e} AS BIGINT)`;
  return e;
}

/** Per file of `out`: rows and each key column's min and max. */
export function fileStatsSql(spec: TableSpec, keys: string[]): string {
  const mm = keys.flatMap((k, i) => [`${asManifestValue(spec, k, 'min')} AS min${i}`, `${asManifestValue(spec, k, 'max')} AS max${i}`]);
  return `SELECT _file_no, count(*) AS rows, ${mm.join(', ')} FROM out GROUP BY _file_no ORDER BY _file_no`;
}

/** A manifest value back as a typed SQL literal. */
export function typedLiteral(spec: TableSpec, col: string, v: string | number | null): string {
  if (v === null) return 'NULL';
  const type = spec.columns.find((c) => c.name === col)?.type ?? 'string';
  return typeof v === 'number' ? `CAST(${String(v)} AS ${DUCK_TYPES[type]})` : `CAST(${lit(v)} AS ${DUCK_TYPES[type]})`;
}

/**
 * The files of a partition that may hold a key of the batch: ranges(name, min0, max0, …) joined with the
 * batch's rows of the partition; a file matches when every key column lies within its min and max.
 */
export function matchSql(keys: string[], where: string): string {
  // a NULL bound is no bound, and a NULL key value may be in any file (as glue/etl_job.py matches)
  const within = keys.map((k, i) => `(b.${ident(k)} IS NULL OR ((r.min${i} IS NULL OR b.${ident(k)} >= r.min${i}) AND (r.max${i} IS NULL OR b.${ident(k)} <= r.max${i})))`).join(' AND ');
  return `SELECT DISTINCT r.name FROM ranges r JOIN (SELECT * FROM batch WHERE ${where}) b ON ${within} ORDER BY 1`;
}
