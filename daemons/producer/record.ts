// The record shape every source produces: one flat object per row, keys in snake_case, numbers as
// numbers, empty cells as null. The producer adds `event_time` (ISO-8601 UTC, time of sending) and
// serialises it as one JSON object; the message key is the row's index.

/** A row from a source, before `event_time` is stamped on it. */
export type Fields = Record<string, string | number | null>;

export interface SourceRecord {
  /** the message key (the stock index) */
  key: string;
  fields: Fields;
}

/** `Index`→`index`, `Adj Close`→`adj_close`, `CloseUSD`→`close_usd`, `openPrice`→`open_price`. */
export function snakeCase(header: string): string {
  return header
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A CSV cell as JSON: '' → null, a decimal number → number, anything else stays a string. */
export function castCell(cell: string): string | number | null {
  if (cell === '') return null;
  if (NUMBER.test(cell)) {
    const n = Number(cell);
    if (Number.isFinite(n)) return n;
  }
  return cell;
}

/** The column that is the message key: always kept as a string (`000001.SS`, and a bare `399001` too). */
export const KEY_COLUMN = 'index';

/** The JSON message value: the fields plus `event_time`. */
export function serialise(fields: Fields, eventTime: string): string {
  fields.event_time = eventTime;
  return JSON.stringify(fields);
}
