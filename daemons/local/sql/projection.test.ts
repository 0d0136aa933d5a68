import test from 'ava';
import { projectionOf } from './projection.js';

const NOW = Date.UTC(2026, 11, 5, 12);
const dt = {
  'projection.enabled': 'true',
  'projection.dt.type': 'date',
  'projection.dt.format': 'yyyy-MM-dd',
  'projection.dt.range': '2020-01-01,NOW',
  'projection.dt.interval': '1',
  'projection.dt.interval.unit': 'DAYS',
};
const P = 'staging/t/';

test('no projection without projection.enabled true, or without partition keys', (t) => {
  t.is(projectionOf('t', undefined, ['dt'], P), undefined);
  t.is(projectionOf('t', { ...dt, 'projection.enabled': 'false' }, ['dt'], P), undefined);
  t.is(projectionOf('t', dt, [], P), undefined);
});

test('a date projection holds the folders in its range and in its format, NOW being the query time', (t) => {
  const p = projectionOf('t', dt, ['dt'], P, NOW)!;
  t.deepEqual(p.values('staging/t/dt=2026-12-05/t+0+1+2.jsonl.gz'), ['2026-12-05']);
  t.deepEqual(p.values('staging/t/dt=2020-01-01/a.gz'), ['2020-01-01']);
  t.is(p.values('staging/t/dt=2026-12-06/a.gz'), undefined, 'after NOW');
  t.is(p.values('staging/t/dt=2019-12-31/a.gz'), undefined, 'before the start');
  t.is(p.values('staging/t/dt=2026-02-30/a.gz'), undefined, 'not a date');
  t.is(p.values('staging/t/dt=20261205/a.gz'), undefined, 'not the format');
  t.is(p.values('staging/t/a.gz'), undefined, 'not in a partition folder');
  t.is(p.values('staging/other/dt=2026-12-05/a.gz'), undefined, 'not under the location');
});

test('relative date bounds, integer and enum keys, and a location template', (t) => {
  const week = projectionOf('t', { ...dt, 'projection.dt.range': 'NOW-7DAYS,NOW' }, ['dt'], P, NOW)!;
  t.truthy(week.values('staging/t/dt=2026-11-29/a'));
  t.is(week.values('staging/t/dt=2026-11-27/a'), undefined);
  const two = projectionOf(
    't',
    { 'projection.enabled': 'true', 'projection.year.type': 'integer', 'projection.year.range': '2000,2030', 'projection.kind.type': 'enum', 'projection.kind.values': 'a,b' },
    ['year', 'kind'],
    'lake/',
  )!;
  t.deepEqual(two.values('lake/year=2021/kind=b/f.parquet'), ['2021', 'b']);
  t.is(two.values('lake/year=1999/kind=b/f.parquet'), undefined);
  t.is(two.values('lake/year=2021/kind=c/f.parquet'), undefined);
  const tpl = projectionOf('t', { ...dt, 'storage.location.template': 's3://bucket/raw/${dt}/' }, ['dt'], 'raw/', NOW)!;
  t.deepEqual(tpl.values('raw/2026-12-01/x.gz'), ['2026-12-01']);
  t.is(tpl.values('raw/dt=2026-12-01/x.gz'), undefined);
});

test('a projection the local engine cannot read fails naming the table and the property', (t) => {
  const err = t.throws(() => projectionOf('t', { ...dt, 'projection.dt.type': 'geo' }, ['dt'], P));
  t.regex(err.message, /projection\.dt\.type "geo"/);
  const bad = t.throws(() => projectionOf('t', { ...dt, 'projection.dt.range': 'yesterday,NOW' }, ['dt'], P));
  t.regex(bad.message, /range bound "yesterday"/);
});
