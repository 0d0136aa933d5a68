// The librdkafka side of the producer (producer.client = librdkafka): the same Sink as producer.ts, through
// @confluentinc/kafka-javascript's native Producer (librdkafka in C, one produce() call per message, delivery
// reports polled in batches). It exists because kafkajs encodes every record in JavaScript and reaches about a
// third of Kafka's own producer on a small machine (BENCHMARKS.md); librdkafka batches, compresses and
// retries in its own threads.
//
// Semantics kept from the kafkajs sink: idempotent, acks=all, the key's partition by murmur2 (the Java
// client's and kafkajs' partitioner, so an index lands in the same partition whichever client sent it),
// order per partition (librdkafka's idempotent producer keeps it across retries, up to 5 requests in
// flight), and every message acknowledged or counted failed: a message librdkafka gives up on (after
// message.timeout.ms) fails its batch, and the sink sends nothing after the first failure.
//
// The package is an optional dependency built from source (setup.sh: CKJS_LINKING=dynamic), so it is
// loaded at run time; when it is missing, choosing this client fails with a line saying how to install it.
import { createRequire } from 'node:module';
import type { Config } from '../lib/config/index.js';
import { KafkalakeError, oneLine } from '../lib/errors.js';
import { ensureTopic } from '../lib/topic.js';
import { type AckRange, type OutMessage, type SendResult, type Sink, type SinkOptions } from './producer.js';

const PACKAGE = '@confluentinc/kafka-javascript';
/** librdkafka's "local queue full": wait for delivery reports, then produce again */
const ERR_QUEUE_FULL = -184;

interface RdError extends Error {
  code?: number;
}
interface DeliveryReport {
  partition: number;
  offset: number;
  opaque?: unknown;
}
interface RdProducer {
  connect(opts: { timeout?: number }, cb: (err: RdError | null) => void): unknown;
  produce(topic: string, partition: number | null, value: Buffer, key: string, timestamp: number | null, opaque: unknown): unknown;
  setPollInterval(ms: number): unknown;
  flush(timeoutMs: number, cb: (err: RdError | null) => void): unknown;
  disconnect(timeoutMs: number, cb: (err: unknown) => void): unknown;
  on(event: 'delivery-report', cb: (err: RdError | null, report: DeliveryReport) => void): unknown;
  on(event: 'event.error', cb: (err: RdError) => void): unknown;
}
interface RdModule {
  Producer: new (conf: Record<string, string | number | boolean>, topicConf?: Record<string, string | number | boolean>) => RdProducer;
}

/** The package, or one line saying how to get it (`name` is for the test of that line). */
export function loadRdkafka(name = PACKAGE): RdModule {
  try {
    return createRequire(import.meta.url)(name) as RdModule;
  } catch (err) {
    throw new KafkalakeError(
      `producer.client is librdkafka but ${name} is not installed or not built (${(err instanceof Error ? err.message : String(err)).split('\n')[0]}); install it with \`CKJS_LINKING=dynamic npm install\` (needs g++, make, libssl-dev, zlib1g-dev) or set producer.client to kafkajs`,
      { where: 'config producer.client', cause: err },
    );
  }
}

/** The librdkafka settings for our config; secrets go in here and nowhere else. */
export function rdkafkaConfig(kafka: Config['kafka'], p: Config['producer']): Record<string, string | number | boolean> {
  const conf: Record<string, string | number | boolean> = {
    'bootstrap.servers': kafka.brokers.join(','),
    'client.id': `${kafka.clientId}-producer`,
    'enable.idempotence': true,
    acks: 'all',
    partitioner: 'murmur2_random',
    'linger.ms': p.lingerMs,
    'max.in.flight.requests.per.connection': Math.min(5, p.maxInFlight),
    // a batch may hold many records; queue room for the pump's window of batches
    'batch.num.messages': 10_000,
    'batch.size': 1_000_000,
    'queue.buffering.max.messages': Math.max(100_000, 4 * p.batchSize),
    'queue.buffering.max.kbytes': 256 * 1024,
    // how long librdkafka keeps retrying a message before it reports it failed (a dead broker: bounded)
    'message.timeout.ms': p.deliveryTimeoutMs,
    'socket.connection.setup.timeout.ms': kafka.connectionTimeoutMs,
    'request.timeout.ms': kafka.requestTimeoutMs,
    dr_cb: true,
  };
  const sasl = kafka.sasl.mechanism !== 'none';
  if (kafka.ssl.enabled || sasl) conf['security.protocol'] = `${sasl ? 'sasl_' : ''}${kafka.ssl.enabled ? 'ssl' : 'plaintext'}`;
  if (kafka.ssl.enabled && kafka.ssl.caFile) conf['ssl.ca.location'] = kafka.ssl.caFile;
  if (sasl) {
    conf['sasl.mechanisms'] = kafka.sasl.mechanism.toUpperCase();
    conf['sasl.username'] = kafka.sasl.username;
    conf['sasl.password'] = kafka.sasl.password;
  }
  return conf;
}

/** What one send() is waiting for: its messages' delivery reports. */
interface Pending {
  left: number;
  result: SendResult;
  /** partition → lowest offset and count acknowledged */
  ranges: Map<number, { first: number; count: number }>;
  bytes: number;
  done: (r: SendResult) => void;
}

export interface RdkafkaSinkOptions extends Omit<SinkOptions, 'lanes' | 'retries'> {
  config: Readonly<Pick<Config, 'kafka' | 'producer'>>;
  /** where librdkafka's own errors go (as kafkajs' chatter: `kafkalake produce` silences it); default `log` */
  clientLog?: SinkOptions['log'];
}

/** the same client error is logged at most once in this many ms (librdkafka repeats them every second) */
const ERROR_LOG_INTERVAL_MS = 30_000;

export async function createRdkafkaSink(opts: RdkafkaSinkOptions): Promise<Sink> {
  const { topic, log } = opts;
  const where = `kafka ${opts.brokers.join(',')} topic ${topic}`;
  const rd = loadRdkafka();
  const partitionCount = (await ensureTopic({ ...opts, kafka: opts.adminKafka ?? opts.kafka })).length;
  const producer = new rd.Producer(rdkafkaConfig(opts.config.kafka, opts.config.producer));
  let broken: KafkalakeError | undefined;
  const clientLog = opts.clientLog ?? log;
  const lastLogged = new Map<string, number>();
  producer.on('event.error', (err) => {
    // librdkafka reports a broker going away here and recovers by itself; each distinct error now and then
    const line = oneLine(err);
    const now = Date.now();
    if (now - (lastLogged.get(line) ?? 0) < ERROR_LOG_INTERVAL_MS) return;
    if (lastLogged.size > 100) lastLogged.clear();
    lastLogged.set(line, now);
    clientLog.warn('kafka client error', { component: 'librdkafka', error: line });
  });
  producer.on('delivery-report', (err, report) => {
    const p = report.opaque as Pending | undefined;
    if (!p) return;
    if (err) {
      p.result.failed++;
      broken ??= new KafkalakeError(`sending to ${topic} failed: ${oneLine(err)}`, { where, cause: err });
      p.result.error ??= broken;
    } else {
      p.result.sent++;
      const r = p.ranges.get(report.partition);
      if (!r) p.ranges.set(report.partition, { first: report.offset, count: 1 });
      else {
        r.first = Math.min(r.first, report.offset);
        r.count++;
      }
    }
    if (--p.left === 0) {
      if (p.result.failed === 0) p.result.bytes = p.bytes;
      p.result.acks = [...p.ranges].map(([partition, r]): AckRange => ({ partition, baseOffset: String(r.first), count: r.count }));
      p.done(p.result);
    }
  });
  await new Promise<void>((resolve, reject) =>
    producer.connect({ timeout: opts.config.kafka.connectionTimeoutMs * 3 }, (err) =>
      err ? reject(new KafkalakeError(`cannot connect the producer to ${opts.brokers.join(',')}: ${oneLine(err)}`, { where, cause: err, retriable: true })) : resolve(),
    ),
  );
  producer.setPollInterval(20);

  // one batch is handed to librdkafka at a time: a batch that waits for queue room must not let the next
  // one overtake it, or a partition's order (and its acked range) would interleave
  let handing: Promise<void> = Promise.resolve();
  let closed = false;
  return {
    topic,
    partitionCount,
    lanes: 1,
    async send(batch: OutMessage[]): Promise<SendResult> {
      if (broken) return { sent: 0, bytes: 0, failed: batch.length, error: broken };
      if (batch.length === 0) return { sent: 0, bytes: 0, failed: 0 };
      let done!: (r: SendResult) => void;
      const settled = new Promise<SendResult>((r) => (done = r));
      const p: Pending = { left: batch.length, result: { sent: 0, bytes: 0, failed: 0 }, ranges: new Map(), bytes: 0, done };
      const previous = handing;
      let handed!: () => void;
      handing = new Promise<void>((r) => (handed = r));
      await previous;
      for (let i = 0; i < batch.length; ) {
        const m = batch[i] as OutMessage;
        try {
          producer.produce(topic, null, m.value, m.key, null, p);
          p.bytes += m.value.length;
          i++;
        } catch (err) {
          if ((err as RdError).code === ERR_QUEUE_FULL) {
            await new Promise((r) => setTimeout(r, 5)); // the poll timer drains delivery reports meanwhile
            continue;
          }
          // not queued (a closed producer, a record over message.max.bytes): it and the rest of the batch fail
          const unsent = batch.length - i;
          broken ??= new KafkalakeError(`sending to ${topic} failed: ${oneLine(err)}`, { where, cause: err });
          log.debug('send failed', { topic, records: unsent, error: oneLine(err) });
          p.result.failed += unsent;
          p.result.error ??= broken;
          p.left -= unsent;
          if (p.left === 0) done(p.result);
          break;
        }
      }
      handed();
      return settled;
    },
    async close() {
      if (closed) return;
      closed = true;
      const timeout = opts.config.producer.deliveryTimeoutMs;
      await new Promise<void>((resolve) => producer.flush(timeout, () => resolve()));
      await new Promise<void>((resolve) => producer.disconnect(timeout, () => resolve()));
    },
  };
}
