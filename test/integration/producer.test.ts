// The whole dataset through real Kafka: the shipped indexProcessed.csv.gz produced with the producer's
// defaults, with each client (producer.client kafkajs and librdkafka), consumed back, and every record
// compared with its CSV row normalised independently here. And the `acked` ranges the producer logs at
// debug (the chaos test builds its acknowledged set from them) are exactly the offsets in the topic.
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import test, { type ExecutionContext } from 'ava';
import { parse } from 'csv-parse/sync';
import { Kafka, logLevel } from 'kafkajs';
import { createLogger } from '../../daemons/lib/log.js';
import { resolveFromRoot } from '../../daemons/lib/paths.js';
import { produceRecords } from '../../daemons/producer/fill.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';
import { consumeAll, expected, type Row } from './producer-helpers.js';

type Client = 'kafkajs' | 'librdkafka';
let stack: TestStack;
test.before(async () => {
  stack = await startTestStack();
});
test.after.always(async () => {
  await stack?.stop();
});

async function csvRoundTrip(t: ExecutionContext, client: Client): Promise<void> {
  t.timeout(8 * 60_000);
  const topic = unique('stock');
  const config = stack.config({ kafka: { topic }, producer: { client } });
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

  const got = await consumeAll(stack, topic, 104_224, 5 * 60_000);
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
}

for (const client of ['kafkajs', 'librdkafka'] as const) {
  test(`${client}: the full indexProcessed.csv: 104,224 records, each equal to its row, order kept per index`, (t) => csvRoundTrip(t, client));
}

/** Every (partition, offset) in the topic, from the partitions' end offsets (the topic is only ours). */
async function topicOffsets(topic: string): Promise<Set<string>> {
  const admin = new Kafka({ clientId: 'acked-test', brokers: stack.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const out = new Set<string>();
    for (const p of await admin.fetchTopicOffsets(topic)) for (let o = Number(p.low); o < Number(p.high); o++) out.add(`${p.partition}:${o}`);
    return out;
  } finally {
    await admin.disconnect();
  }
}

for (const client of ['kafkajs', 'librdkafka'] as const) {
  test(`${client}: the acked ranges logged at debug are exactly the offsets in the topic`, async (t) => {
    const topic = unique(`acked-${client}`);
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    const log = createLogger({ daemon: 'producer', level: 'debug', stream });
    const n = 30_000;
    const summary = await produceRecords(stack.config({ kafka: { topic, partitions: 4 }, producer: { client, batchSize: 1000 } }), { source: 'simulate', count: n, log });
    t.is(summary.sent, n);
    const acked = new Set<string>();
    let duplicates = 0;
    for (const line of lines) {
      const j = JSON.parse(line) as { message: string; partition?: number; baseOffset?: string; count?: number };
      if (j.message !== 'acked') continue;
      for (let i = 0; i < (j.count ?? 0); i++) {
        const k = `${j.partition}:${Number(j.baseOffset) + i}`;
        if (acked.has(k)) duplicates++;
        acked.add(k);
      }
    }
    t.is(duplicates, 0);
    t.is(acked.size, n);
    t.deepEqual([...acked].sort(), [...(await topicOffsets(topic))].sort());
  });
}
