// What the producer's integration tests share: the CSV rows normalised independently of the producer's
// code, and reading a topic back with a plain kafkajs consumer.
import { Kafka, logLevel } from 'kafkajs';
import { type TestStack, unique } from '../helpers/stack.js';

export type Row = Record<string, string>;

/** The expected record of a CSV row, written out column by column (not through the producer's code). */
export function expected(r: Row): Record<string, unknown> {
  const num = (s: string | undefined) => (s === '' || s === undefined ? null : Number(s));
  return {
    index: r.Index,
    date: r.Date,
    open: num(r.Open),
    high: num(r.High),
    low: num(r.Low),
    close: num(r.Close),
    adj_close: num(r['Adj Close']),
    volume: num(r.Volume),
    close_usd: num(r.CloseUSD),
  };
}

export async function consumeAll(stack: TestStack, topic: string, n: number, timeoutMs: number): Promise<Array<{ key: string; value: Record<string, unknown> }>> {
  const kafka = new Kafka({ clientId: 'producer-test', brokers: stack.brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: unique('producer-test'), maxBytes: 10 << 20 });
  const got: Array<{ key: string; value: Record<string, unknown> }> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumed ${got.length} of ${n} in ${timeoutMs} ms`)), timeoutMs);
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) got.push({ key: m.key?.toString() ?? '', value: JSON.parse(m.value?.toString() ?? 'null') as Record<string, unknown> });
            if (got.length >= n) {
              clearTimeout(timer);
              resolve();
            }
            await Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

