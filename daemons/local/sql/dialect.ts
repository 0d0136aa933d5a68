// Athena (Trino) SQL run by DuckDB: every difference the local engine papers over is here, in one
// place, and unit-tested (dialect.test.ts). The saved reports are written in the subset both engines
// run alike; these make ad-hoc Athena SQL behave the same where DuckDB differs by default.
//
//  - integer division: Trino's 7/2 is 3, DuckDB's is 3.5         → SET integer_division = true
//  - NULL ordering: Trino sorts NULLs last in ASC and DESC        → SET default_null_order = 'nulls_last'
//  - time zone: Athena's session zone is UTC                       → SET TimeZone = 'UTC'
//  - the current database: Athena's QueryExecutionContext         → SET search_path = '<database>'
//  - the catalog prefix awsdatacatalog.<db>.<table>                → blanked (same length: error positions stay right)
//  - Trino syntax and functions → DuckDB's                         → sqlglot (transpile.py), not a list of ours
//  - unnamed result columns: _col0, _col1, … as Athena names them  → transpile.py
//  - Hive column types (Glue) → DuckDB types                       → crawler/types.ts duckType()
//  - result type names (HUGEINT from sum(bigint) → bigint, ...)   → athenaType()

export const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
export const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

export function sessionSettings(database: string): string[] {
  return [`SET integer_division = true`, `SET default_null_order = 'nulls_last'`, `SET TimeZone = 'UTC'`, `SET search_path = ${lit(database)}`];
}

/**
 * Settings that make the session read-only over the lake's cached objects: applied last, then locked.
 * `readable` is the one directory a query may read (the object cache, which the snapshot's views scan);
 * DuckDB takes the allowed directories only while external access is still on, so they come first.
 */
export function lockdown(readable?: string): string[] {
  return [
    ...(readable === undefined ? [] : [`SET allowed_directories = [${lit(readable.endsWith('/') ? readable : `${readable}/`)}]`]),
    `SET enable_external_access = false`,
    `SET autoinstall_known_extensions = false`,
    `SET autoload_known_extensions = false`,
    `SET allow_community_extensions = false`,
    `SET lock_configuration = true`,
  ];
}

/**
 * Text rewrites, each keeping the length of the query so DuckDB's error positions are the user's:
 * the catalog prefix `awsdatacatalog.` (quoted or not) becomes spaces.
 */
export function rewrite(sql: string): string {
  return sql.replace(/("awsdatacatalog"|\bawsdatacatalog)\s*\./gi, (m) => ' '.repeat(m.length));
}

/** DuckDB result type names → the names Athena's ResultSetMetadata uses. */
export function athenaType(duck: string): string {
  const t = duck.toUpperCase();
  if (t.startsWith('DECIMAL')) return 'decimal';
  if (t.startsWith('TIMESTAMP')) return t.includes('TIME ZONE') ? 'timestamp with time zone' : 'timestamp';
  const map: Record<string, string> = {
    VARCHAR: 'varchar',
    BIGINT: 'bigint',
    HUGEINT: 'bigint',
    UBIGINT: 'bigint',
    INTEGER: 'integer',
    SMALLINT: 'smallint',
    TINYINT: 'tinyint',
    DOUBLE: 'double',
    FLOAT: 'real',
    BOOLEAN: 'boolean',
    DATE: 'date',
    BLOB: 'varbinary',
    INTERVAL: 'interval day to second',
  };
  return map[t] ?? t.toLowerCase();
}

/** The tables a query may read: the catalog's table names that occur in it as words. */
export function referencedTables(sql: string, tables: readonly string[]): string[] {
  const words = new Set(sql.toLowerCase().match(/[a-z_][a-z0-9_]*/g) ?? []);
  return tables.filter((t) => words.has(t.toLowerCase())).sort();
}
