import test from 'ava';
import { KafkalakeError } from '../lib/errors.js';
import type { OutMessage, SendResult } from './producer.js';
import { pump } from './pump.js';
import { simulateSource } from './simulate.js';
import { Stats } from './stats.js';

/** A sink that records what it is given and acknowledges after `delayMs`; `fail(n)` fails the n-th batch. */
function fakeSink(opts: { delayMs?: number; failBatch?: number } = {}) {
  const batches: OutMessage[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    batches,
    get maxInFlight() {
      return maxInFlight;
    },
    async send(messages: OutMessage[]): Promise<SendResult> {
      const nth = batches.push(messages);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, opts.delayMs ?? 0));
      inFlight--;
      if (nth === opts.failBatch) return { sent: 0, bytes: 0, failed: messages.length, error: new KafkalakeError('broker said no', { where: 'kafka' }) };
      return { sent: messages.length, bytes: messages.reduce((n, m) => n + m.value.length, 0), failed: 0 };
    },
  };
}

const base = { batchSize: 100, window: 2, rate: 0, limit: 0 };

test('sends up to the limit, in batches, with a bounded window, each value JSON with event_time', async (t) => {
  const sink = fakeSink({ delayMs: 2 });
  const stats = new Stats();
  await pump({ ...base, source: simulateSource({ seed: 1, symbols: 13 }), sink, stats, limit: 1234, signal: new AbortController().signal });
  t.is(stats.sent, 1234);
  t.is(stats.failed, 0);
  t.deepEqual(sink.batches.map((b) => b.length), [...Array.from({ length: 12 }, () => 100), 34]);
  t.true(sink.maxInFlight <= 2);
  const expected = [...simulateSource({ seed: 1, symbols: 13, count: 1234 })];
  const sent = sink.batches.flat();
  t.deepEqual(sent.map((m) => m.key), expected.map((r) => r.key), 'in source order, keyed by index');
  const v = JSON.parse(sent[0]?.value.toString() ?? '') as Record<string, unknown>;
  t.is(v.index, expected[0]?.key);
  t.regex(v.event_time as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  t.is(stats.bytes, sent.reduce((n, m) => n + m.value.length, 0));
});

test('the first failed send stops the pump: nothing more is taken, the failure is counted and thrown', async (t) => {
  const sink = fakeSink({ delayMs: 5, failBatch: 3 });
  const stats = new Stats();
  await t.throwsAsync(() => pump({ ...base, source: simulateSource({ seed: 1, symbols: 13 }), sink, stats, signal: new AbortController().signal }), { message: 'broker said no' });
  t.true(sink.batches.length <= 5, `${sink.batches.length} batches`);
  const handed = sink.batches.flat().length;
  t.is(stats.failed, 100, 'the failed batch counts as failed (no records were left in hand)');
  t.is(stats.sent + 100, handed, 'every other batch handed over was acknowledged');
  t.is(handed, 400, 'batch 4 was already on its way when batch 3 failed; nothing after it');
});

test('an abort stops taking records, sends the batch in hand, awaits every pending send', async (t) => {
  const sink = fakeSink({ delayMs: 5 });
  const stats = new Stats();
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 50);
  await pump({ ...base, source: simulateSource({ seed: 1, symbols: 13 }), sink, stats, signal: stop.signal });
  const handed = sink.batches.flat().length;
  t.true(handed > 0);
  t.is(stats.sent, handed);
  t.is(stats.failed, 0);
});

test('a rate paces the batches (smaller batches, ~20 a second)', async (t) => {
  const sink = fakeSink();
  const stats = new Stats();
  const started = performance.now();
  await pump({ ...base, batchSize: 1000, rate: 2000, limit: 400, source: simulateSource({ seed: 1, symbols: 13 }), sink, stats, signal: new AbortController().signal });
  const ms = performance.now() - started;
  t.deepEqual(sink.batches.map((b) => b.length), [100, 100, 100, 100]);
  t.true(ms >= 140, `took ${ms} ms; 400 records at 2000/s need 150 ms`);
  t.true(ms < 2000, `took ${ms} ms`);
});
