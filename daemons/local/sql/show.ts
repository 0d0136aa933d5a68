// Athena's catalog statements, answered from the Glue catalog as Athena answers them (its result
// columns and values), not by DuckDB (whose snapshot holds only the tables a query reads):
//   SHOW TABLES [IN db] [LIKE 'pattern']  → tab_name, sorted
//   SHOW PARTITIONS t                     → partition, "k1=v1/k2=v2" (the catalog's, as Athena lists them)
//   SHOW COLUMNS {IN | FROM} t            → field (the columns, then the partition keys)
//   DESCRIBE t                            → col_name, data_type, comment
import type { Table } from '@aws-sdk/client-glue';
import type { GlueCatalog } from '../../lib/catalog/glue-catalog.js';
import { QueryError } from './errors.js';

export type Show =
  | { kind: 'tables'; database?: string; like?: string }
  | { kind: 'partitions' | 'columns' | 'describe'; database?: string; table: string };

const NAME = `(?:"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_]*))`;
const QUALIFIED = `(?:(?:awsdatacatalog\\s*\\.\\s*)?${NAME}\\s*\\.\\s*)?${NAME}`;
const name = (quoted?: string, bare?: string) => (quoted !== undefined ? quoted.replace(/""/g, '"') : bare?.toLowerCase());

/** The catalog statement `sql` is, if it is one (a trailing semicolon allowed). */
export function parseShow(sql: string): Show | undefined {
  const s = sql.trim().replace(/;\s*$/, '');
  let m = new RegExp(`^SHOW\\s+TABLES(?:\\s+(?:IN|FROM)\\s+${NAME})?(?:\\s+LIKE\\s+'((?:[^']|'')*)')?$`, 'i').exec(s);
  if (m) return { kind: 'tables', database: name(m[1], m[2]), like: m[3]?.replace(/''/g, "'") };
  m = new RegExp(`^SHOW\\s+PARTITIONS\\s+(?:FROM\\s+)?${QUALIFIED}$`, 'i').exec(s);
  if (m) return { kind: 'partitions', database: name(m[1], m[2]), table: name(m[3], m[4])! };
  m = new RegExp(`^SHOW\\s+COLUMNS\\s+(?:IN|FROM)\\s+${QUALIFIED}$`, 'i').exec(s);
  if (m) return { kind: 'columns', database: name(m[1], m[2]), table: name(m[3], m[4])! };
  m = new RegExp(`^(?:DESCRIBE|DESC)\\s+${QUALIFIED}$`, 'i').exec(s);
  if (m) return { kind: 'describe', database: name(m[1], m[2]), table: name(m[3], m[4])! };
  return undefined;
}

/** Trino's LIKE pattern (% and _) as a regular expression over the whole name. */
const likeRe = (p: string) => new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, 'i');

export async function answerShow(
  show: Show,
  catalogOf: (database: string) => GlueCatalog,
  current: string,
  where: string,
): Promise<{ columns: Array<{ name: string; type: string }>; rows: Array<Array<string | null>> }> {
  const database = show.database ?? current;
  const catalog = catalogOf(database);
  if (show.kind === 'tables') {
    const names = (await catalog.getTables()).map((t) => t.Name ?? '').filter((n) => !show.like || likeRe(show.like).test(n));
    return { columns: [{ name: 'tab_name', type: 'varchar' }], rows: names.sort().map((n) => [n]) };
  }
  const table: Table | undefined = await catalog.getTable(show.table);
  if (!table) throw new QueryError(`TABLE_NOT_FOUND: table ${show.table} does not exist in database ${database}`, where);
  const keys = table.PartitionKeys ?? [];
  if (show.kind === 'partitions') {
    if (keys.length === 0) throw new QueryError(`NOT_SUPPORTED: table ${database}.${show.table} is not partitioned`, where);
    const parts = await catalog.getPartitions(show.table);
    const rows = parts.map((p) => keys.map((k, i) => `${k.Name}=${p.Values?.[i] ?? ''}`).join('/')).sort();
    return { columns: [{ name: 'partition', type: 'varchar' }], rows: rows.map((r) => [r]) };
  }
  const cols = [...(table.StorageDescriptor?.Columns ?? []), ...keys];
  if (show.kind === 'columns') return { columns: [{ name: 'field', type: 'varchar' }], rows: cols.map((c) => [c.Name ?? '']) };
  return {
    columns: [
      { name: 'col_name', type: 'varchar' },
      { name: 'data_type', type: 'varchar' },
      { name: 'comment', type: 'varchar' },
    ],
    rows: cols.map((c) => [c.Name ?? '', c.Type ?? '', c.Comment ?? '']),
  };
}
