// The job spec is checked at load: every mistake is one line naming the file and the field.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { loadSpecs, validateSpec } from './spec.js';
import { PROJECT_ROOT } from '../paths.js';

const file = path.join(PROJECT_ROOT, 'glue/tables/stock_market_data.json');
const base = () => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

test('the shipped spec loads', (t) => {
  const [s] = loadSpecs(path.join(PROJECT_ROOT, 'glue/tables'));
  t.is(s?.table, 'stock_market_data');
  t.deepEqual(s?.businessKey, ['index', 'trade_date']);
  t.deepEqual(s?.partitionBy, ['year']);
  t.is(s?.columns.find((c) => c.name === 'trade_date')?.from, 'date');
});

const broken: [string, (s: Record<string, unknown>) => void, RegExp][] = [
  ['version', (s) => (s.version = 2), /version must be 1/],
  ['an unknown type', (s) => ((s.columns as { type: string }[])[2]!.type = 'float'), /column open: type must be one of/],
  ['a missing envelope column', (s) => (s.columns = (s.columns as { name: string }[]).filter((c) => c.name !== '_offset')), /the envelope column _offset is required/],
  ['a business key that is no column', (s) => (s.businessKey = ['nope']), /businessKey nope is not a column/],
  ['a partition that is not derived', (s) => (s.partitionBy = ['index']), /partitionBy index must be a derived column/],
  ['a bad pattern', (s) => ((s.types as Record<string, { accept: string }>).double!.accept = '('), /types\.double: /],
  ['a prefix without its slash', (s) => ((s.target as { prefix: string }).prefix = 'datalake/x'), /target\.prefix must be a key prefix ending in "\/"/],
];
for (const [what, mutate, message] of broken) {
  test(`a spec with ${what} is refused in one line naming the file`, (t) => {
    const s = base();
    mutate(s);
    const err = t.throws(() => validateSpec(s, 'tables/x.json'));
    t.regex(err.message, /^invalid ETL spec tables\/x\.json: /);
    t.regex(err.message, message);
    t.false(err.message.includes('\n'));
  });
}
