import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import test from 'ava';
import { type BadRow, openCsv } from './csv-source.js';
import type { SourceRecord } from './record.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-csv-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const HEADER = 'Index,Date,Open,High,Low,Close,Adj Close,Volume,CloseUSD';
const ROWS = [
  'HSI,1986-12-31,2568.300049,2568.300049,2568.300049,2568.300049,2568.300049,0.0,333.87900637',
  'HSI,1987-01-02,2540.100098,,2540.100098,2540.100098,2540.100098,0.0,330.21301274',
];

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

async function all(file: string, opts: { loop?: boolean; take?: number } = {}): Promise<{ records: SourceRecord[]; bad: BadRow[] }> {
  const bad: BadRow[] = [];
  const records: SourceRecord[] = [];
  for await (const r of await openCsv({ file, onBadRow: (b) => bad.push(b), ...(opts.loop ? { loop: true } : {}) })) {
    records.push(r);
    if (opts.take && records.length >= opts.take) break;
  }
  return { records, bad };
}

const first = {
  index: 'HSI',
  date: '1986-12-31',
  open: 2568.300049,
  high: 2568.300049,
  low: 2568.300049,
  close: 2568.300049,
  adj_close: 2568.300049,
  volume: 0,
  close_usd: 333.87900637,
};

test('plain CSV: snake_case keys, numbers, empty cells as null, keyed by index', async (t) => {
  const { records, bad } = await all(write('plain.csv', [HEADER, ...ROWS].join('\n') + '\n'));
  t.deepEqual(bad, []);
  t.is(records.length, 2);
  t.deepEqual(records[0], { key: 'HSI', fields: first });
  t.is(records[1]?.fields.high, null);
});

test('gzip is recognised by its bytes, whatever the name; CRLF and a BOM are fine', async (t) => {
  const file = write('data.bin', gzipSync(Buffer.from(`\uFEFF${[HEADER, ...ROWS].join('\r\n')}\r\n`)));
  const { records } = await all(file);
  t.is(records.length, 2);
  t.deepEqual(records[0]?.fields, first);
});

test('rows with the wrong number of fields are skipped and reported with their line number', async (t) => {
  const file = write('bad.csv', [HEADER, ROWS[0], 'HSI,1987-01-05,1,2', ROWS[1], `${ROWS[1]},extra`, ''].join('\n'));
  const { records, bad } = await all(file);
  t.is(records.length, 2);
  t.deepEqual(bad, [
    { file, line: 3, reason: 'expected 9 fields, got 4' },
    { file, line: 5, reason: 'expected 9 fields, got 10' },
  ]);
});

test('a row without an index is reported, not sent with an empty key', async (t) => {
  const file = write('nokey.csv', [HEADER, `,${ROWS[0]?.slice(4)}`, ROWS[1]].join('\n'));
  const { records, bad } = await all(file);
  t.is(records.length, 1);
  t.deepEqual(bad, [{ file, line: 2, reason: 'empty index' }]);
});

test('loop replays from the top', async (t) => {
  const { records } = await all(write('loop.csv', [HEADER, ...ROWS].join('\n')), { loop: true, take: 5 });
  t.deepEqual(
    records.map((r) => r.fields.date),
    ['1986-12-31', '1987-01-02', '1986-12-31', '1987-01-02', '1986-12-31'],
  );
});

test('a missing file, a directory, a file without an index column, a broken quote: one-line errors', async (t) => {
  const missing = path.join(dir, 'missing.csv');
  await t.throwsAsync(() => all(missing), { message: `cannot read CSV ${missing}: no such file (ENOENT)` });
  await t.throwsAsync(() => all(dir), { message: `cannot read CSV ${dir}: is a directory (EISDIR)` });
  const noIndex = write('noindex.csv', 'a,b\n1,2\n');
  await t.throwsAsync(() => all(noIndex), { message: `CSV ${noIndex} has no "index" column (header: a,b)` });
  const quote = write('quote.csv', [HEADER, ROWS[0], 'HSI,"1987-01-02,1,2,3,4,5,6,7'].join('\n'));
  const err = await t.throwsAsync(() => all(quote));
  t.regex(err?.message ?? '', new RegExp(`^cannot parse CSV ${quote}: .*line`));
  t.false(err?.message.includes('\n'));
  const empty = write('empty.csv', '');
  await t.throwsAsync(() => all(empty), { message: `CSV ${empty} is empty (no header row)` });
});
