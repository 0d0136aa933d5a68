// Odd and bad records for the stock table, each with what the stages must do with it (glue/README.md,
// "Odd records"): the consumer's DLQ reason, or null when it stages the record; then the ETL's reason,
// or null when the record becomes a lake row. Used raw through the whole pipeline (sent with kcat,
// test/integration/odd-records.test.ts) and staged for both executors (test/integration/etl.test.ts).
import type { Reason } from '../../daemons/consumer/records.js';

export interface OddRecord {
  name: string;
  /** the value as sent; null is a tombstone */
  value: Buffer | null;
  /** the consumer's DLQ reason, or null: staged */
  consumer: Reason | null;
  /**
   * the ETL's reason, or null: a row in the lake. For a record the consumer refuses, what both executors
   * do with it staged anyway (by an older consumer); undefined when the executors cannot be handed it.
   */
  etl: string | null | undefined;
}

/** Each record's own trade date (the business key is index and date), all in 1980. */
const day = (n: number) => new Date(Date.UTC(1980, 0, 1 + n)).toISOString().slice(0, 10);

/** A stock record as JSON text: the fields in order, each given as its JSON text (undefined: absent). */
function record(n: number, over: Record<string, string | undefined> = {}): string {
  const fields: Record<string, string | undefined> = {
    index: '"ODD"',
    date: `"${day(n)}"`,
    open: '1.5',
    high: '2',
    low: '1',
    close: '1.5',
    adj_close: '1.5',
    volume: '100',
    close_usd: '1.5',
    event_time: '"2026-11-22T10:00:00Z"',
    ...over,
  };
  const body = Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined);
  return `{${body.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

export function oddRecords(): OddRecord[] {
  const list: Array<[name: string, value: string | Buffer | null, consumer: Reason | null, etl: string | null | undefined]> = [
    ['a plain record', record(0), null, null],
    ['not JSON (a CSV row)', 'ODD,1980-01-02,1.5,2,1,1.5,1.5,100', 'not-json', 'not a JSON object'],
    ['truncated', record(2).slice(0, 40), 'not-json', 'not a JSON object'],
    ['an array', '[1,2,3]', 'not-object', 'not a JSON object'],
    ['a number', '42', 'not-object', 'not a JSON object'],
    ['a string', '"ODD"', 'not-object', 'not a JSON object'],
    ['bad UTF-8', Buffer.concat([Buffer.from(record(7).slice(0, 10)), Buffer.from([0xff, 0xfe]), Buffer.from(record(7).slice(10))]), 'not-utf8', undefined],
    ['a tombstone', null, 'tombstone', undefined],
    ['a duplicate key', `{"index":"DK1",${record(9).slice(1)}`, 'duplicate-key', 'duplicate key "index"'],
    ['a duplicate key spelled with an escape', `{"index":"DK1",${record(10).slice(1).replace('"index"', '"\\u0069ndex"')}`, 'duplicate-key', 'duplicate key "index"'],
    ['nested 1001 levels deep', record(11, { deep: nested(1000) }), 'too-deep', 'not a JSON object'],
    ['a number of 1001 digits', record(12, { big: '9'.repeat(1001) }), 'long-number', 'not a JSON object'],
    ['a lone surrogate escape', record(13, { index: '"A\\ud800B"' }), 'not-json', undefined],
    ['a byte order mark first', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(record(14))]), null, null],
    ['a non-ASCII index', record(15, { index: '"NYÄ東"' }), null, null],
    ['escapes in a value', record(16, { index: '"\\u00e9\\n\\"q\\/"' }), null, null],
    ['fields the spec does not name', record(17, { Index: '"other"', extra: '{"a":1,"a":[1.5e3,{"b":null}]}' }), null, null],
    ['nested 1000 levels deep, a number of 1000 digits', record(18, { deep: nested(999), big: `-${'9'.repeat(1000)}` }), null, null],
    ['a wrong type', record(19, { open: '"abc"' }), null, 'field "open" is not a double'],
    ['an impossible date', record(20, { date: '"1980-02-30"' }), null, 'field "date" is not a date'],
    ['a missing field', record(21, { adj_close: undefined }), null, 'field "adj_close" is missing or null'],
    ['a null field', record(22, { adj_close: 'null' }), null, 'field "adj_close" is missing or null'],
    ['1e400 in a double', record(23, { close_usd: '1e400' }), null, 'field "close_usd" is not a double'],
    ['a negative volume', record(24, { volume: '-5' }), null, null],
    ['a fractional volume', record(25, { volume: '12.5' }), null, 'field "volume" is not a bigint'],
    ['1e2 in a bigint', record(26, { volume: '1e2' }), null, null],
    ['a number as the index', record(27, { index: '123.40' }), null, 'field "index" is not a string'],
    ['an object as the index', record(28, { index: '{"a":1.5}' }), null, 'field "index" is not a string'],
    ['true as the index', record(29, { index: 'true' }), null, 'field "index" is not a string'],
    ['hour 24', record(30, { event_time: '"2026-11-22 24:00:00"' }), null, 'field "event_time" is not a timestamp'],
    ['an offset of +99:99', record(31, { event_time: '"2026-11-22T10:00:00+99:99"' }), null, 'field "event_time" is not a timestamp'],
    ['epoch milliseconds', record(32, { event_time: '1700000000000' }), null, null],
    ['"NaN" as a double', record(33, { open: '"NaN"' }), null, 'field "open" is not a double'],
    ['a double as a string', record(34, { open: '"2.5"' }), null, null],
    ['spread over lines', record(35).replace(/,/g, ',\n  '), null, null],
    ['an envelope field of its own', record(36, { _offset: '99' }), null, null],
  ];
  return list.map(([name, value, consumer, etl]) => ({ name, value: value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(value), consumer, etl }));
}
