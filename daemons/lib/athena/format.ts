// How `kafkalake query` prints a result: an aligned text table (the default), Athena's CSV, or JSON
// (one object per row, values as the engine's strings).
import type { QueryResult } from './result.js';
import { resultCsv } from './result.js';

export type OutputFormat = 'table' | 'csv' | 'json';
export const OUTPUT_FORMATS: OutputFormat[] = ['table', 'csv', 'json'];

export function formatTable(r: Pick<QueryResult, 'columns' | 'rows'>): string {
  const cells = [r.columns.map((c) => c.name), ...r.rows.map((row) => row.map((v) => (v === null ? 'NULL' : v)))];
  const widths = r.columns.map((_, i) => Math.max(...cells.map((row) => [...(row[i] ?? '')].length)));
  const line = (row: string[]) => row.map((v, i) => v.padEnd(widths[i]!)).join(' | ').trimEnd();
  const out = [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.slice(1).map(line)];
  return `${out.join('\n')}\n`;
}

export function formatResult(r: Pick<QueryResult, 'columns' | 'rows'>, format: OutputFormat): string {
  if (format === 'csv') return resultCsv(r);
  if (format === 'json') return `${JSON.stringify(r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i] ?? null]))))}\n`;
  return formatTable(r);
}
