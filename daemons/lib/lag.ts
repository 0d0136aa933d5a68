// The consumer group's lag measured from outside, with the Kafka admin API: the end offset of each
// partition minus the group's committed offset. The scheduler publishes it (ConsumerGroupLag), so the
// lag alarm still sees the lag grow when the consumer itself is dead; `kafkalake status` shows it.
import type { Admin, Kafka } from 'kafkajs';
import { isKafkaError } from './cluster-health.js';
import { KafkalakeError, wrap } from './errors.js';
import { withAdmin } from './kafka.js';

export interface PartitionLag {
  partition: number;
  /** the next offset the producer will write */
  end: number;
  /** the group's committed offset; null: nothing committed yet (lag counts from the oldest kept offset) */
  committed: number | null;
  lag: number;
}

export async function measureLag(admin: Admin, groupId: string, topic: string): Promise<PartitionLag[]> {
  let ends: Awaited<ReturnType<Admin['fetchTopicOffsets']>>;
  let committed: Awaited<ReturnType<Admin['fetchOffsets']>>;
  try {
    // one after the other: were the topic missing, fetchOffsets would go on retrying its metadata after
    // fetchTopicOffsets had failed and the caller had disconnected, and its timers would keep the
    // process from exiting (`kafkalake status` printed its report and hung)
    ends = await admin.fetchTopicOffsets(topic);
    committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  } catch (err) {
    if (isKafkaError(err, 'UNKNOWN_TOPIC_OR_PARTITION')) {
      throw new KafkalakeError(`topic ${topic} does not exist on the brokers (yet: the producer creates it at its first start)`, { where: `kafka topic ${topic}`, cause: err, explainsCause: true });
    }
    throw wrap(err, `kafka topic ${topic}, group ${groupId}`, 'measuring the consumer lag failed');
  }
  const byPartition = new Map((committed.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return ends
    .map((e) => {
      const end = Number(e.high);
      const c = byPartition.get(e.partition);
      const has = c !== undefined && c >= 0;
      return { partition: e.partition, end, committed: has ? c : null, lag: Math.max(0, end - (has ? c : Number(e.low))) };
    })
    .sort((a, b) => a.partition - b.partition);
}

/** Open an admin client, measure, close it. */
export async function measureLagOnce(kafka: Kafka, groupId: string, topic: string): Promise<PartitionLag[]> {
  try {
    return await withAdmin(kafka, (admin) => measureLag(admin, groupId, topic));
  } catch (err) {
    // measureLag's own errors say what failed already; a connect failure does not
    throw err instanceof KafkalakeError ? err : wrap(err, `kafka topic ${topic}`, 'measuring the consumer lag failed');
  }
}
