// The topic before a daemon uses it. Who makes it: the producer (ensureTopic: it knows what it will send
// and the topic's shape is config it owns: kafka.partitions, kafka.replicationFactor) and `kafkalake up`
// before it starts anything. The consumer never creates it: it waits for it (waitForTopic), because
//   - a consumer that created the topic would fix its partitions before the producer or the operator did,
//     and a consumer host with another config (or a typo in kafka.topic) would create a topic nobody
//     writes to;
//   - in a cluster with ACLs the consumer's principal then needs Read and Describe on the topic and its
//     group only, not Create on the cluster (least privilege);
//   - waiting is bounded (consumer.topicWaitMs) and logged once, so a topic that never comes ends in one
//     line and exit 1, and systemd's Restart=on-failure tries again.
import type { Kafka, PartitionMetadata } from 'kafkajs';
import { KafkalakeError, oneLine, wrap } from './errors.js';
import type { Logger } from './log.js';

export interface TopicOptions {
  kafka: Kafka;
  /** for error messages: where Kafka is */
  brokers: readonly string[];
  topic: string;
  log: Logger;
}

/** Create the topic if it is missing (an existing topic keeps its own shape); return its partitions. */
export async function ensureTopic(opts: TopicOptions & { partitions: number; replicationFactor: number }): Promise<PartitionMetadata[]> {
  const where = `kafka ${opts.brokers.join(',')}`;
  const admin = opts.kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw wrap(err, where, `cannot reach Kafka at ${opts.brokers.join(',')}`);
  }
  try {
    const created = await admin.createTopics({
      topics: [{ topic: opts.topic, numPartitions: opts.partitions, replicationFactor: opts.replicationFactor }],
      waitForLeaders: true,
    });
    if (created) opts.log.info('created topic', { topic: opts.topic, partitions: opts.partitions, replicationFactor: opts.replicationFactor });
    const meta = await admin.fetchTopicMetadata({ topics: [opts.topic] });
    const partitions = meta.topics[0]?.partitions ?? [];
    if (partitions.length === 0) throw new KafkalakeError(`topic ${opts.topic} has no partitions`, { where });
    return partitions;
  } catch (err) {
    if (err instanceof KafkalakeError) throw err;
    throw wrap(err, where, `cannot create topic ${opts.topic} (${opts.partitions} partitions, replication ${opts.replicationFactor})`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export interface WaitOptions extends TopicOptions {
  /** give up after this long (consumer.topicWaitMs); 0: look once, do not wait */
  timeoutMs: number;
  /** look again this often */
  retryMs: number;
  /** stop waiting (the daemon was told to stop) */
  signal?: AbortSignal;
}

/** Thrown when the wait was aborted: the daemon is stopping, not failing. */
export class StoppedError extends Error {
  constructor(what: string) {
    super(`stopped while ${what}`);
    this.name = 'StoppedError';
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Wait until the topic exists and every partition has a leader; return its partition count. Logs
 * "waiting for topic T" once (with the retry interval and the limit) if it is not there at the first
 * look, and "topic T is there" when it came.
 */
export async function waitForTopic(opts: WaitOptions): Promise<number> {
  const where = `kafka ${opts.brokers.join(',')}`;
  const admin = opts.kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw wrap(err, where, `cannot reach Kafka at ${opts.brokers.join(',')}`);
  }
  const t0 = Date.now();
  let waited = false;
  let last = 'it does not exist';
  try {
    for (;;) {
      if (opts.signal?.aborted) throw new StoppedError(`waiting for topic ${opts.topic}`);
      // listTopics first: fetchTopicMetadata of a missing topic retries for kafka.retries before it throws
      const names = await admin.listTopics().catch((err: unknown) => {
        throw wrap(err, where, `cannot list the topics`);
      });
      if (names.includes(opts.topic)) {
        const meta = await admin.fetchTopicMetadata({ topics: [opts.topic] }).catch(() => undefined);
        const partitions = meta?.topics[0]?.partitions ?? [];
        if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) {
          if (waited) opts.log.info(`topic ${opts.topic} is there`, { topic: opts.topic, partitions: partitions.length, waitedMs: Date.now() - t0 });
          return partitions.length;
        }
        last = partitions.length === 0 ? 'it has no partitions yet' : 'a partition has no leader yet';
      }
      const left = opts.timeoutMs - (Date.now() - t0);
      if (opts.timeoutMs === 0) {
        throw new KafkalakeError(`topic ${opts.topic} is not usable (${last}); consume --once does not wait for it`, { where });
      }
      if (left <= 0) {
        throw new KafkalakeError(
          `topic ${opts.topic} is not usable after ${Math.round(opts.timeoutMs / 1000)} s (${last}); the producer or \`kafkalake up\` creates it, or create it yourself; consumer.topicWaitMs sets how long to wait`,
          { where },
        );
      }
      if (!waited) {
        opts.log.info(`waiting for topic ${opts.topic}`, { topic: opts.topic, retryMs: opts.retryMs, timeoutMs: opts.timeoutMs, reason: last });
        waited = true;
      }
      await sleep(Math.min(opts.retryMs, left), opts.signal);
    }
  } catch (err) {
    if (err instanceof KafkalakeError || err instanceof StoppedError) throw err;
    throw new KafkalakeError(`cannot wait for topic ${opts.topic}: ${oneLine(err)}`, { where, cause: err });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
