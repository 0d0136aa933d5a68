import test from 'ava';
import { DuckDBInstance } from '@duckdb/node-api';
import { athenaValue, javaDouble } from './values.js';

test('doubles as Java prints them: a decimal always, an exponent outside 10^-3 … 10^7', (t) => {
  t.is(javaDouble(2), '2.0');
  t.is(javaDouble(-3.5), '-3.5');
  t.is(javaDouble(0), '0.0');
  t.is(javaDouble(1234567.25), '1234567.25');
  t.is(javaDouble(12345678.9), '1.23456789E7');
  t.is(javaDouble(1e21), '1.0E21');
  t.is(javaDouble(0.001), '0.001');
  t.is(javaDouble(0.0001), '1.0E-4');
  t.is(javaDouble(Number.NaN), 'NaN');
  t.is(javaDouble(-Infinity), '-Infinity');
});

test('DuckDB values of every shape printed as Athena prints them', async (t) => {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
    const r = await conn.runAndReadAll(
      "SELECT 2.0::DOUBLE, 7, [1, 2], ['a', NULL], [1.5::DOUBLE, 2], MAP(['a', 'b'], [1, 2]), {'x': 1, 'y': 'z'}, TIMESTAMP '2020-01-02 03:04:05', TIMESTAMP '2020-01-02 03:04:05.5', TIMESTAMPTZ '1970-01-02 00:00:00+00', DATE '2020-01-01', 1.5::DECIMAL(10, 2), true, NULL::VARCHAR",
    );
    const types = r.columnTypes();
    t.deepEqual(
      r.getRows()[0]!.map((v, i) => athenaValue(v, types[i])),
      ['2.0', '7', '[1, 2]', '[a, null]', '[1.5, 2.0]', '{a=1, b=2}', '{x=1, y=z}', '2020-01-02 03:04:05.000', '2020-01-02 03:04:05.500', '1970-01-02 00:00:00.000 UTC', '2020-01-01', '1.50', 'true', null],
    );
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
});
