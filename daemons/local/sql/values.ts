// DuckDB's result values printed as Athena prints Trino's (GetQueryResults and the result CSV): doubles as
// Java prints them (2.0, 1.0E7), arrays [a, b] and maps {a=1} without quotes, rows {x=1, y=z}, timestamps
// with at least milliseconds, a timestamp with time zone in the session's zone (UTC) by name.
import {
  DuckDBArrayValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimestampTZValue,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
} from '@duckdb/node-api';

/** Java's Double.toString: plain between 10^-3 and 10^7 with at least one decimal, else 1.0E7 / 1.5E-4. */
export function javaDouble(d: number): string {
  if (Number.isNaN(d)) return 'NaN';
  if (!Number.isFinite(d)) return d > 0 ? 'Infinity' : '-Infinity';
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0';
  const a = Math.abs(d);
  if (a >= 1e-3 && a < 1e7) {
    const s = String(d); // never an exponent in this range
    return s.includes('.') ? s : `${s}.0`;
  }
  const [m = '', e = '0'] = d.toExponential().split('e');
  return `${m.includes('.') ? m : `${m}.0`}E${Number(e)}`;
}

/** "2020-01-02 03:04:05" → "2020-01-02 03:04:05.000"; a longer fraction is kept. */
const withMillis = (s: string) => s.replace(/( \d\d:\d\d:\d\d)(?:\.(\d+))?/, (_, hms: string, f?: string) => `${hms}.${(f ?? '').padEnd(3, '0')}`);

const typeOf = (t: DuckDBType | undefined, pick: 'value' | 'key'): DuckDBType | undefined =>
  t && 'valueType' in t ? (pick === 'key' && 'keyType' in t ? t.keyType : t.valueType) : undefined;

function text(v: DuckDBValue, t: DuckDBType | undefined): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return t?.typeId === DuckDBTypeId.DOUBLE || t?.typeId === DuckDBTypeId.FLOAT ? javaDouble(v) : String(v);
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) return `[${v.items.map((x) => text(x, typeOf(t, 'value'))).join(', ')}]`;
  if (v instanceof DuckDBMapValue) return `{${v.entries.map((e) => `${text(e.key, typeOf(t, 'key'))}=${text(e.value, typeOf(t, 'value'))}`).join(', ')}}`;
  if (v instanceof DuckDBStructValue) {
    const types = t && 'entryTypes' in t ? t.entryTypes : [];
    return `{${Object.entries(v.entries).map(([k, x], i) => `${k}=${text(x, types[i])}`).join(', ')}}`;
  }
  if (v instanceof DuckDBTimestampTZValue) {
    const s = String(v);
    return s.endsWith('+00') ? `${withMillis(s.slice(0, -3))} UTC` : withMillis(s);
  }
  if (t && (t.typeId === DuckDBTypeId.TIMESTAMP || t.typeId === DuckDBTypeId.TIMESTAMP_MS || t.typeId === DuckDBTypeId.TIMESTAMP_S || t.typeId === DuckDBTypeId.TIMESTAMP_NS)) return withMillis(String(v));
  return String(v);
}

/** One result value as Athena prints it; null stays null (an empty field in the CSV). */
export function athenaValue(v: DuckDBValue | undefined, t: DuckDBType | undefined): string | null {
  return v === null || v === undefined ? null : text(v, t);
}
