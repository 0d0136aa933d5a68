// Both stages' dead letters read alike: the ETL's object names parse (and are no staging position), and an
// ETL reject gives back the record's value as it was sent, so a replay re-sends what the producer sent.
import test from 'ava';
import { etlLetter } from './dlq.js';
import { parseKey } from './naming.js';
import { envelopeOf, sentValue, toLine } from './records.js';

const NAME = 'stock_market_data+3+00000000000000000010+00000000000000000019';

test('an ETL dead-letter name parses as the etl stage; a staging object is never named .etl', (t) => {
  t.like(parseKey('staging', `staging/_dlq/stock_market_data/dt=2026-11-21/${NAME}.etl.jsonl.gz`), { dlq: true, stage: 'etl', partition: 3, first: 10, last: 19 });
  t.like(parseKey('staging', `staging/_dlq/stock_market_data/dt=2026-11-21/${NAME}.jsonl.gz`), { dlq: true, stage: 'consumer' });
  t.like(parseKey('staging', `staging/stock_market_data/dt=2026-11-21/${NAME}.jsonl.gz`), { dlq: false, stage: 'consumer' });
  t.is(parseKey('staging', `staging/stock_market_data/dt=2026-11-21/${NAME}.etl.jsonl.gz`), undefined);
});

const msg = (value: string, key: string | null = 'NYA') => ({ key: key === null ? null : Buffer.from(key), value: Buffer.from(value), offset: '17', timestamp: '1764000000000' });
const staged = (value: string, key: string | null = 'NYA') => {
  const o = toLine('stock_market_data', 3, msg(value, key), 1 << 20);
  if (!o.ok) throw new Error(`not staged: ${o.line}`);
  return o.line;
};

test('the sent value comes back from its staging line: the fields as sent, without the envelope', (t) => {
  for (const v of ['{"index":"NYA","open":"abc","volume":1.50}', '{}', '{ "a" : 1e400 , "b":[1,2] }', '{"ü":"naïve"}']) {
    const back = sentValue(staged(v));
    t.is(back.replace(/\s/g, ''), v.replace(/\s/g, ''), `${v}: the fields' text kept`);
  }
  // a record with an envelope field of its own, or spread over lines, was re-serialised: its fields still
  t.deepEqual(JSON.parse(sentValue(staged('{\n"a": 1\n}'))), { a: 1 });
  t.deepEqual(JSON.parse(sentValue(staged('{"a":1,"_offset":99}'))), { a: 1 });
  t.is(sentValue('{"index":"NYA","open":'), '{"index":"NYA","open":', 'a line that is not JSON is its own value');
});

test('an ETL reject becomes a letter with its envelope, key and sent value', (t) => {
  const line = staged('{"index":"NYA","date":"1971-03-04","open":"abc"}');
  const env = envelopeOf('stock_market_data', 3, msg(''));
  const l = etlLetter({ stage: 'etl', table: 'stock_market_data', reason: 'field "open" is not a double', source: `staging/stock_market_data/dt=2026-11-21/${NAME}.jsonl.gz`, _topic: 'stock_market_data', _partition: 3, _offset: 17, raw: line });
  t.like(l, { stage: 'etl', _topic: 'stock_market_data', _partition: 3, _offset: 17, _key: 'NYA', _timestamp: env._timestamp, reason: 'field "open" is not a double' });
  t.is(Buffer.from(l.raw_base64 ?? '', 'base64').toString('utf8'), '{"index":"NYA","date":"1971-03-04","open":"abc"}');
  t.regex(l.detail, /ETL of table stock_market_data in staging\/stock_market_data\//);
  // a line the ETL could not parse keeps a null key and the line itself as its value
  const bad = etlLetter({ stage: 'etl', table: 't', reason: 'not a JSON object', source: 's', _topic: 't', _partition: 0, _offset: 1, raw: '{"a":' });
  t.like(bad, { _key: null, _timestamp: '' });
  t.is(Buffer.from(bad.raw_base64 ?? '', 'base64').toString('utf8'), '{"a":');
});

test('records the ETL cannot read, or not read alike, are dead letters here with what is wrong; a BOM is dropped', (t) => {
  const out = (v: string | Buffer) => toLine('stock_market_data', 3, { key: null, value: Buffer.isBuffer(v) ? v : Buffer.from(v), offset: '5', timestamp: '1764000000000' }, 1 << 20);
  const dead = (v: string) => {
    const o = out(v);
    return o.ok ? null : { reason: o.reason, detail: (JSON.parse(o.line) as { detail: string }).detail };
  };
  t.deepEqual(dead('{"index":"DK1","date":"1971-03-04","index":"DK2"}'), { reason: 'duplicate-key', detail: 'duplicate key "index"' });
  t.deepEqual(dead(`{"deep":${'['.repeat(1000)}${']'.repeat(1000)}}`), { reason: 'too-deep', detail: "nested 1001 levels deep, over the 1000 the ETL's JSON reader takes" });
  t.deepEqual(dead(`{"n":${'7'.repeat(1001)}}`), { reason: 'long-number', detail: "a number of 1001 digits, over the 1000 the ETL's JSON reader takes" });
  // at the limits, and the look-alikes, are records
  t.is(dead(`{"deep":${'['.repeat(999)}${']'.repeat(999)},"n":${'7'.repeat(1000)},"o":{"a":1,"a":2}}`), null);
  const bom = out(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"index":"NYA"}')]));
  t.true(bom.ok);
  t.true(bom.line.startsWith('{"index":"NYA",'), 'staged without the BOM');
});
