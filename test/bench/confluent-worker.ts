// Sends N simulated records (the same records `kafkalake produce --source simulate` sends) through an
// installed @confluentinc/kafka-javascript (its KafkaJS-compatible API), idempotent, acks=all, and prints
// {records, bytes, ms}. Only for the producer benchmark's side-by-side evaluation: the project does not
// depend on that package (see BENCHMARKS.md).
//   node dist/test/bench/confluent-worker.js --module DIR --brokers B --topic T --count N
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { serialise } from '../../daemons/producer/record.js';
import { simulateSource } from '../../daemons/producer/simulate.js';

interface CkProducer {
  connect(): Promise<void>;
  send(r: { topic: string; messages: Array<{ key: string; value: Buffer }> }): Promise<unknown>;
  disconnect(): Promise<void>;
}
interface CkModule {
  KafkaJS: { Kafka: new (c: unknown) => { producer(c: unknown): CkProducer }; logLevel: { ERROR: number } };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { module: { type: 'string' }, brokers: { type: 'string' }, topic: { type: 'string' }, count: { type: 'string' } } });
  const ck = createRequire(import.meta.url)(values.module ?? '@confluentinc/kafka-javascript') as CkModule;
  const n = Number(values.count);
  const topic = values.topic ?? '';
  const kafka = new ck.KafkaJS.Kafka({ kafkaJS: { brokers: (values.brokers ?? '').split(','), logLevel: ck.KafkaJS.logLevel.ERROR } });
  const producer = kafka.producer({ kafkaJS: { idempotent: true, acks: -1 }, 'linger.ms': 5 });
  await producer.connect();
  const batchSize = 10_000;
  const pending: Array<Promise<unknown>> = [];
  let bytes = 0;
  let batch: Array<{ key: string; value: Buffer }> = [];
  const started = performance.now();
  let eventTime = new Date().toISOString(); // per batch, as the kafkalake producer stamps it
  for (const r of simulateSource({ seed: 1, count: n })) {
    const value = Buffer.from(serialise(r.fields, eventTime));
    bytes += value.length;
    batch.push({ key: r.key, value });
    if (batch.length >= batchSize) {
      pending.push(producer.send({ topic, messages: batch }));
      batch = [];
      eventTime = new Date().toISOString();
      if (pending.length >= 4) await pending.shift();
    }
  }
  if (batch.length) pending.push(producer.send({ topic, messages: batch }));
  await Promise.all(pending);
  const ms = performance.now() - started;
  await producer.disconnect();
  process.stdout.write(`${JSON.stringify({ records: n, bytes, ms })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`confluent worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
