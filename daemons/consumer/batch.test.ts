import test from 'ava';
import { add, isFull, ndjson, openBatch, records, trimThrough } from './batch.js';

const good = (i: number) => ({ ok: true as const, line: `{"i":${i},"s":"${'x'.repeat(i % 7)}"}` });
const bad = (i: number) => ({ ok: false as const, line: `{"dead":${i}}`, reason: 'not-json' as const });

/** offsets 10..10+n-1, every 5th a dead letter */
function filled(n: number) {
  const b = openBatch(10, 0, 1);
  for (let i = 0; i < n; i++) add(b, 10 + i, i % 5 === 4 ? bad(i) : good(i));
  return b;
}
// ASCII lines: bytes counts pending lines by their length, encoded ones by their UTF-8 size
const text = (buf: Buffer) => buf.toString('utf8');

test('ndjson holds every line in offset order, newline-terminated, across encoded chunks', (t) => {
  const n = 1300; // more than two chunks of 512
  const b = filled(n);
  t.is(records(b), n);
  t.is(b.last, 10 + n - 1);
  const want = Array.from({ length: n }, (_, i) => i).filter((i) => i % 5 !== 4);
  t.is(text(ndjson(b.good)), `${want.map((i) => good(i).line).join('\n')}\n`);
  t.is(text(ndjson(b.dead)), `${Array.from({ length: n }, (_, i) => i).filter((i) => i % 5 === 4).map((i) => bad(i).line).join('\n')}\n`);
});

test('bytes held is the size of the lines as they will be written (what flush.maxBytes bounds)', (t) => {
  const b = filled(1300);
  const held = b.bytes;
  t.is(held, ndjson(b.good).length + ndjson(b.dead).length);
  t.true(isFull(b, { maxRecords: 10_000, maxBytes: held, intervalMs: 1000 }));
  t.false(isFull(b, { maxRecords: 10_000, maxBytes: held + 1, intervalMs: 1000 }));
});

test('trimThrough keeps only the records after an offset, in encoded chunks or not', (t) => {
  for (const through of [9, 10, 600, 1100, 1308]) {
    const b = filled(1300);
    const trimmed = trimThrough(b, through);
    if (through >= b.last) {
      t.is(trimmed, undefined);
      continue;
    }
    if (!trimmed) return t.fail(`nothing left after ${through}`);
    const kept = Array.from({ length: 1300 }, (_, i) => i).filter((i) => 10 + i > through);
    t.is(trimmed.first, Math.max(10, through + 1));
    t.is(records(trimmed), kept.length);
    const g = kept.filter((i) => i % 5 !== 4).map((i) => good(i).line);
    const d = kept.filter((i) => i % 5 === 4).map((i) => bad(i).line);
    t.is(text(ndjson(trimmed.good)), g.length ? `${g.join('\n')}\n` : '');
    t.is(text(ndjson(trimmed.dead)), d.length ? `${d.join('\n')}\n` : '');
    t.is(trimmed.bytes, Buffer.byteLength([...g, ...d].map((l) => `${l}\n`).join('')));
  }
  t.is(trimThrough(filled(1300), 1309), undefined);
});

test('non-ASCII lines round-trip through the encoded chunks', (t) => {
  const b = openBatch(0, 0, 1);
  const lines = Array.from({ length: 700 }, (_, i) => JSON.stringify({ i, name: `Bolsa de Madrid ${'é'.repeat(i % 3)} 📈` }));
  lines.forEach((line, i) => add(b, i, { ok: true, line }));
  t.deepEqual(text(ndjson(b.good)).split('\n'), [...lines, '']);
  t.deepEqual(trimThrough(b, 599) && text(ndjson(trimThrough(b, 599)?.good ?? b.good)).split('\n'), [...lines.slice(600), '']);
});
