// Kafka for the benchmarks: a topic made up front (the test broker creates none on demand), a topic filled
// with kafkajs directly (at a rate when given), and the deterministic records the consumer bench sends.
// Kept here, apart from the integration tests' helpers, so the bench loads no test framework.
import { Kafka, logLevel, type Message } from 'kafkajs';

export function kafkaFor(brokers: string[]): Kafka {
  return new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING, retry: { retries: 10 } });
}

export async function createTopic(brokers: string[], topic: string, partitions: number): Promise<void> {
  const admin = kafkaFor(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** Send messages in batches (at `rate` records/s when given), idempotent, acks=all; returns how many were acknowledged. */
export async function produce(brokers: string[], topic: string, messages: Iterable<Message>, opts: { batch?: number; rate?: number } = {}): Promise<number> {
  const batch = opts.batch ?? 2000;
  const producer = kafkaFor(brokers).producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const t0 = Date.now();
  let n = 0;
  const send = async (chunk: Message[]) => {
    await producer.send({ topic, messages: chunk, acks: -1 });
    n += chunk.length;
    if (opts.rate) {
      const ahead = (n / opts.rate) * 1000 - (Date.now() - t0);
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    }
  };
  try {
    let chunk: Message[] = [];
    for (const m of messages) {
      chunk.push(m);
      if (chunk.length >= batch) {
        await send(chunk);
        chunk = [];
      }
    }
    if (chunk.length) await send(chunk);
  } finally {
    await producer.disconnect();
  }
  return n;
}

const INDEXES = ['NYA', 'IXIC', 'HSI', 'GSPTSE', 'N225', 'GDAXI', 'SSMI', 'TWII', '000001.SS', '399001.SZ', 'N100', 'NSEI', 'J203.JO'];

/** A deterministic simulated record: record i is always the same. */
export function simulated(i: number): { index: string; seq: number; date: string; open: number; close: number; close_usd: number } {
  const index = INDEXES[i % INDEXES.length] as string;
  return { index, seq: i, date: new Date(Date.UTC(2000, 0, 1) + (i % 9000) * 86_400_000).toISOString().slice(0, 10), open: (i % 10007) / 7, close: (i % 9973) / 3, close_usd: i * 0.01 };
}
