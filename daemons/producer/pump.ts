// The loop between a source and the sink: take records in batches, stamp `event_time`, serialise, pace to
// the rate, and keep a bounded number of batches in flight. It stops when the source ends, at the limit,
// when the signal aborts (the batch in hand is still sent, then every pending send is awaited), or at
// the first failed send (nothing more is taken; records already queued behind it count as failed).
import { setTimeout as sleep } from 'node:timers/promises';
import type { KafkalakeError } from '../lib/errors.js';
import type { OutMessage, SendResult, Sink } from './producer.js';
import { serialise, type SourceRecord } from './record.js';
import { type Clock, type Stats, systemClock } from './stats.js';

export interface PumpOptions {
  source: AsyncIterable<SourceRecord> | Iterable<SourceRecord>;
  sink: Pick<Sink, 'send'>;
  stats: Stats;
  /** records per batch when unlimited; with a rate, smaller so batches go out ~20 times a second */
  batchSize: number;
  /** batches handed to the sink and not yet acknowledged, at most */
  window: number;
  /** records per second; 0: as fast as the broker takes them */
  rate: number;
  /** stop after this many records; 0: no limit */
  limit: number;
  signal: AbortSignal;
  clock?: Clock;
}

/** Resolves when everything taken is acknowledged or counted failed; rejects with the first send failure. */
export async function pump(opts: PumpOptions): Promise<void> {
  const { sink, stats, rate, limit, signal } = opts;
  const clock = opts.clock ?? systemClock;
  const batchSize = rate > 0 ? Math.max(1, Math.min(opts.batchSize, Math.ceil(rate / 20))) : opts.batchSize;
  const window = Math.max(1, opts.window);
  const pending = new Set<Promise<void>>();
  let failure: KafkalakeError | undefined;
  let taken = 0;
  let submitted = 0;
  let startedAt: number | undefined;
  let batch: SourceRecord[] = [];

  const settle = (r: SendResult) => {
    stats.acked(r.sent, r.bytes);
    if (r.failed > 0) {
      stats.lost(r.failed);
      failure ??= r.error;
    }
  };

  const pace = async () => {
    if (rate <= 0 || startedAt === undefined) return;
    const due = startedAt + (submitted * 1000) / rate - clock.now();
    if (due > 1) await sleep(due, undefined, { signal }).catch(() => undefined); // a stop cuts the wait short
  };

  const flush = async () => {
    if (batch.length === 0) return;
    await pace();
    startedAt ??= clock.now();
    stats.start();
    const eventTime = new Date().toISOString();
    const messages: OutMessage[] = batch.map((r) => ({ key: r.key, value: Buffer.from(serialise(r.fields, eventTime)) }));
    submitted += batch.length;
    batch = [];
    const p: Promise<void> = sink.send(messages).then(settle);
    pending.add(p);
    void p.finally(() => pending.delete(p));
    while (pending.size >= window) await Promise.race(pending);
  };

  for await (const record of opts.source) {
    if (signal.aborted || failure) break;
    batch.push(record);
    taken++;
    if (batch.length >= batchSize) await flush();
    if (limit > 0 && taken >= limit) break;
  }
  if (failure) stats.lost(batch.length);
  else await flush();
  await Promise.all(pending);
  stats.stop();
  if (failure) throw failure;
}
