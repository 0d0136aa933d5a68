// The Kafka side of the producer (kafkajs): makes sure the topic exists (lib/topic.ts), then sends batches of keyed
// messages with acks=all through idempotent producers.
//
// Throughput and order: kafkajs lets an idempotent producer have one request in flight per broker, so
// the partitions are split into `lanes`, each with its own idempotent producer. Every record goes to the
// partition of its key (kafkajs' default partitioner: murmur2, as the Java client), so an index always
// lands in one partition; a lane sends its share of each batch only after its previous share is
// acknowledged, so order per partition holds even when kafkajs retries; lanes run side by side.
import { type Kafka, type Message, Partitioners, type Producer } from 'kafkajs';
import { type KafkalakeError, oneLine, wrap } from '../lib/errors.js';
import { closeAll } from '../lib/lifecycle.js';
import { ensureTopic } from '../lib/topic.js';
import type { Logger } from '../lib/log.js';

export interface SinkOptions {
  kafka: Kafka;
  /** the client that checks and creates the topic at start, when it should give up sooner than sends do */
  adminKafka?: Kafka;
  /** for error messages: where Kafka is */
  brokers: readonly string[];
  topic: string;
  /** used when the topic is created; an existing topic keeps its own */
  partitions: number;
  replicationFactor: number;
  /** idempotent producers sending side by side (at most one per partition) */
  lanes: number;
  /** kafkajs retries of a failed produce request before the batch counts as failed (see retriesWithin) */
  retries: number;
  log: Logger;
}

export interface OutMessage {
  key: string;
  value: Buffer;
}

/** Acknowledged offsets of one partition: baseOffset .. baseOffset + count - 1 (string: offsets are 64-bit). */
export interface AckRange {
  partition: number;
  baseOffset: string;
  count: number;
}

export interface SendResult {
  sent: number;
  bytes: number;
  failed: number;
  /** the first failure, when failed > 0 */
  error?: KafkalakeError;
  /** what the broker acknowledged, per partition (logged at debug as `acked`: the chaos test reads it) */
  acks?: AckRange[];
}

export interface Sink {
  topic: string;
  /** partitions of the topic as it is */
  partitionCount: number;
  lanes: number;
  /** Send a batch; never rejects: the result counts what was acknowledged and what failed. */
  send(messages: OutMessage[]): Promise<SendResult>;
  close(): Promise<void>;
}

/** kafkajs' backoff: 300 ms doubling to at most 10 s (createKafka's and the sink's retry settings) */
const RETRY_INITIAL_MS = 300;
const RETRY_MAX_MS = 10_000;

/** How many kafkajs retries back off for at least `budgetMs` in all (producer.deliveryTimeoutMs). */
export function retriesWithin(budgetMs: number): number {
  let retries = 0;
  for (let waited = 0, next = RETRY_INITIAL_MS; waited < budgetMs && retries < 100; retries++, next = Math.min(2 * next, RETRY_MAX_MS)) waited += next;
  return retries;
}


interface Lane {
  producer: Producer;
  /** the previous share's promise: the next one waits for it */
  tail: Promise<unknown>;
  /** set when a share failed: later shares are not sent (they would break the partition's order) */
  broken?: KafkalakeError;
}

export async function createSink(opts: SinkOptions): Promise<Sink> {
  const { kafka, topic, log } = opts;
  const where = `kafka ${opts.brokers.join(',')} topic ${topic}`;
  const partitionMetadata = await ensureTopic({ ...opts, kafka: opts.adminKafka ?? opts.kafka });
  const partitionCount = partitionMetadata.length;
  const partitioner = Partitioners.DefaultPartitioner();
  // murmur2 of every key showed in profiles; keys repeat (13 indexes), so remember them (bounded)
  const known = new Map<string, number>();
  const partitionOf = (m: OutMessage): number => {
    let p = known.get(m.key);
    if (p === undefined) {
      p = partitioner({ topic, partitionMetadata, message: m });
      if (known.size >= 100_000) known.clear();
      known.set(m.key, p);
    }
    return p;
  };
  const laneCount = Math.max(1, Math.min(opts.lanes, partitionCount));
  const lanes: Lane[] = [];
  const close = async () => {
    await closeAll(
      lanes.map((l, i) => [`producer lane ${i}`, () => l.producer.disconnect()] as [string, () => Promise<void>]),
      log,
    );
  };
  try {
    for (let i = 0; i < laneCount; i++) {
      const producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: opts.retries, initialRetryTime: RETRY_INITIAL_MS, maxRetryTime: RETRY_MAX_MS },
      });
      lanes.push({ producer, tail: Promise.resolve() });
      await producer.connect();
    }
  } catch (err) {
    await close().catch(() => undefined);
    throw wrap(err, where, `cannot connect the producer to ${opts.brokers.join(',')}`);
  }

  const sendShare = async (lane: Lane, messages: Message[], bytes: number): Promise<SendResult> => {
    if (lane.broken) return { sent: 0, bytes: 0, failed: messages.length, error: lane.broken };
    try {
      const meta = await lane.producer.sendBatch({ acks: -1, topicMessages: [{ topic, messages }] });
      const counts = new Map<number, number>();
      for (const m of messages) counts.set(m.partition as number, (counts.get(m.partition as number) ?? 0) + 1);
      const acks = meta.map((r): AckRange => ({ partition: r.partition, baseOffset: r.baseOffset ?? '', count: counts.get(r.partition) ?? 0 }));
      return { sent: messages.length, bytes, failed: 0, acks };
    } catch (err) {
      lane.broken = wrap(err, where, `sending ${messages.length} records to ${topic} failed`);
      log.debug('send failed', { topic, records: messages.length, error: oneLine(err) });
      return { sent: 0, bytes: 0, failed: messages.length, error: lane.broken };
    }
  };

  return {
    topic,
    partitionCount,
    lanes: laneCount,
    async send(batch) {
      const shares: Message[][] = lanes.map(() => []);
      const bytes: number[] = lanes.map(() => 0);
      for (const m of batch) {
        const partition = partitionOf(m);
        const lane = partition % laneCount;
        (shares[lane] as Message[]).push({ key: m.key, value: m.value, partition });
        bytes[lane] = (bytes[lane] as number) + m.value.length;
      }
      const results = lanes.map((lane, i) => {
        const share = shares[i] as Message[];
        if (share.length === 0) return Promise.resolve<SendResult>({ sent: 0, bytes: 0, failed: 0 });
        const result = lane.tail.then(() => sendShare(lane, share, bytes[i] as number));
        lane.tail = result;
        return result;
      });
      const total: SendResult = { sent: 0, bytes: 0, failed: 0 };
      for (const r of await Promise.all(results)) {
        total.sent += r.sent;
        total.bytes += r.bytes;
        total.failed += r.failed;
        if (r.error) total.error ??= r.error;
        if (r.acks) (total.acks ??= []).push(...r.acks);
      }
      return total;
    },
    close,
  };
}
