// A query's result as both engines give it: Athena's shape (column names and types, every value a
// string or null), where the CSV went, and the CSV text Athena writes (header, every value quoted);
// and what an engine is (daemons/jobs/query.ts picks the mode's).
import { stringify } from 'csv-stringify/sync';

export interface QueryResult {
  queryId: string;
  engine: 'duckdb' | 'athena';
  columns: Array<{ name: string; type: string }>;
  rows: Array<Array<string | null>>;
  /** s3://bucket/athena-results/<query-id>.csv */
  outputLocation: string;
  durationMs: number;
}

/** Runs Athena-dialect SQL: Athena in aws mode, DuckDB over the twin's catalog in local mode. */
export interface QueryEngine {
  query(sql: string, where?: string): Promise<QueryResult>;
  close(): void;
}

/**
 * The CSV Athena writes: a header, every value quoted ("" doubled), a NULL as an empty field without
 * quotes and an empty string as "" (so the two stay apart), one \n after each row.
 */
export function resultCsv(r: Pick<QueryResult, 'columns' | 'rows'>): string {
  return stringify([r.columns.map((c) => c.name), ...r.rows], {
    quoted: true,
    quoted_empty: false,
    cast: { string: (v: string) => (v === '' ? { value: '', quoted_empty: true } : v) },
  });
}
