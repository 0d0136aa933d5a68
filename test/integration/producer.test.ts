// The whole dataset through real Kafka: the shipped indexProcessed.csv.gz produced with the producer's
// defaults, consumed back, and every record compared with its CSV row normalised independently here.
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import test from 'ava';
import { parse } from 'csv-parse/sync';
import { Kafka, logLevel } from 'kafkajs';
import { produceRecords } from '../../daemons/producer/fill.js';
import { resolveFromRoot } from '../../daemons/lib/paths.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';

let stack: TestStack;
test.before(async () => {
  stack = await startTestStack();
});
test.after.always(async () => {
  await stack?.stop();
});

type Row = Record<string, string>;

/** The expected record of a CSV row, written out column by column (not through the producer's code). */
function expected(r: Row): Record<string, unknown> {
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

async function consumeAll(topic: string, n: number, timeoutMs: number): Promise<Array<{ key: string; value: Record<string, unknown> }>> {
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

test('the full indexProcessed.csv: 104,224 records, each equal to its row, order kept per index', async (t) => {
  t.timeout(8 * 60_000);
  const topic = unique('stock');
  const config = stack.config({ kafka: { topic } });
  const before = new Date().toISOString();
  const summary = await produceRecords(config, { source: 'csv' }); // the default file: the shipped .csv.gz
  const after = new Date().toISOString();
  t.is(summary.sent, 104_224);
  t.is(summary.failed, 0);

  const rows = parse(gunzipSync(readFileSync(resolveFromRoot('daemons/producer/data/indexProcessed.csv.gz'))), { columns: true }) as Row[];
  t.is(rows.length, 104_224);
  const want = new Map<string, Array<Record<string, unknown>>>();
  for (const r of rows) {
    const list = want.get(r.Index as string) ?? [];
    list.push(expected(r));
    want.set(r.Index as string, list);
  }

  const got = await consumeAll(topic, 104_224, 5 * 60_000);
  t.is(got.length, 104_224);
  const byIndex = new Map<string, Array<Record<string, unknown>>>();
  let badKeys = 0;
  let badTimes = 0;
  for (const { key, value } of got) {
    if (key !== value.index) badKeys++;
    const et = value.event_time;
    if (typeof et !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(et) || et < before || et > after) badTimes++;
    const { event_time: _e, ...rest } = value;
    const list = byIndex.get(key) ?? [];
    list.push(rest);
    byIndex.set(key, list);
  }
  t.is(badKeys, 0, 'every message key is its index');
  t.is(badTimes, 0, 'every event_time is ISO-8601 UTC, taken while producing');
  t.deepEqual([...byIndex.keys()].sort(), [...want.keys()].sort());
  for (const [index, list] of want) t.deepEqual(byIndex.get(index), list, `records of ${index}, in file order`);
});
