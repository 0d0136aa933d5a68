import test from 'ava';
import { castCell, serialise, snakeCase } from './record.js';

test('header names become snake_case', (t) => {
  t.is(snakeCase('Index'), 'index');
  t.is(snakeCase('Adj Close'), 'adj_close');
  t.is(snakeCase('CloseUSD'), 'close_usd');
  t.is(snakeCase('openPrice'), 'open_price');
  t.is(snakeCase(' Trade-Date (UTC) '), 'trade_date_utc');
  t.is(snakeCase('HTTPServer2'), 'http_server2');
});

test('cells: empty → null, decimals → numbers, anything else stays a string', (t) => {
  t.is(castCell(''), null);
  t.is(castCell('0.0'), 0);
  t.is(castCell('1626022600.0'), 1626022600);
  t.is(castCell('4373.047109200001'), 4373.047109200001);
  t.is(castCell('-1.5e3'), -1500);
  t.is(castCell('1986-12-31'), '1986-12-31');
  t.is(castCell('000001.SS'), '000001.SS');
  t.is(castCell('NaN'), 'NaN');
  t.is(castCell('1e999'), '1e999', 'not finite: kept as written');
});

test('serialise adds event_time and writes one JSON object', (t) => {
  const json = serialise({ index: 'NYA', close: 1.5, volume: null }, '2026-01-02T03:04:05.678Z');
  t.deepEqual(JSON.parse(json), { index: 'NYA', close: 1.5, volume: null, event_time: '2026-01-02T03:04:05.678Z' });
});
