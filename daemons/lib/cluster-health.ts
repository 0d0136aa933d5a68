// The Kafka cluster's health as the admin API sees it: the brokers alive against the brokers expected,
// the controller, and the partitions that are under-replicated (fewer in-sync replicas than replicas) or
// offline (no leader), counted over every topic (internal ones such as __consumer_offsets included: the
// consumer cannot commit when one of those has no leader) and over the pipeline's topic. The scheduler
// publishes it (BrokersAlive, BrokersExpected, BrokersMissing, UnderReplicatedPartitions,
// OfflinePartitions), `kafkalake status` shows it.
import type { Admin, Kafka, PartitionMetadata } from 'kafkajs';
import type { Config } from './config/index.js';
import { KafkalakeError, wrap } from './errors.js';
import { withAdmin } from './kafka.js';

export interface ClusterHealth {
  /** the ids of the brokers alive (registered with the cluster), sorted; null: unknown (see `partial`) */
  brokers: number[] | null;
  /** kafka.expectedBrokers, or the number of kafka.brokers when that is 0 */
  expected: number;
  controller: number | null;
  /** "topic/partition" of every partition whose in-sync replicas are fewer than its replicas */
  underReplicated: string[];
  /** "topic/partition" of every partition without a leader; "topic/?" when only the topic is known */
  offline: string[];
  /** the same two counts for the pipeline's topic */
  topic: { name: string; partitions: number; underReplicated: number; offline: number };
  /** topics and partitions counted */
  topics: number;
  partitions: number;
  /**
   * set when Kafka's metadata could not be read whole: kafkajs refuses a metadata response in which any
   * partition has no leader (LEADER_NOT_AVAILABLE), so then only the pipeline's topic and
   * __consumer_offsets are looked at, one by one, and the brokers are unknown
   */
  partial?: string;
}

export interface TopicPartitions {
  name: string;
  partitions: Pick<PartitionMetadata, 'partitionId' | 'leader' | 'replicas' | 'isr'>[];
}

/** The topics whose health is looked at one by one when the whole metadata cannot be read. */
export const PROBED_INTERNAL_TOPICS = ['__consumer_offsets'] as const;

/** kafka.expectedBrokers made effective: 0 means every broker of kafka.brokers. */
export const expectedBrokersOf = (k: Pick<Config['kafka'], 'brokers' | 'expectedBrokers'>) => (k.expectedBrokers > 0 ? k.expectedBrokers : k.brokers.length);

/** The health of the cluster from its metadata (pure: the measurement and the tests call it). */
export function clusterHealthOf(
  meta: { brokers: number[] | null; controller: number | null; topics: TopicPartitions[] },
  expected: number,
  topic: string,
  partial?: string,
): ClusterHealth {
  const underReplicated: string[] = [];
  const offline: string[] = [];
  let partitions = 0;
  const own = { name: topic, partitions: 0, underReplicated: 0, offline: 0 };
  for (const t of [...meta.topics].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const p of [...t.partitions].sort((a, b) => a.partitionId - b.partitionId)) {
      partitions++;
      const name = `${t.name}/${p.partitionId}`;
      const isOffline = p.leader < 0;
      const isUnder = p.isr.length < p.replicas.length;
      if (isOffline) offline.push(name);
      if (isUnder) underReplicated.push(name);
      if (t.name === topic) {
        own.partitions++;
        if (isOffline) own.offline++;
        if (isUnder) own.underReplicated++;
      }
    }
  }
  return {
    brokers: meta.brokers === null ? null : [...meta.brokers].sort((a, b) => a - b),
    expected,
    controller: meta.controller,
    underReplicated,
    offline,
    topic: own,
    topics: meta.topics.length,
    partitions,
    ...(partial ? { partial } : {}),
  };
}

/** How many expected brokers are not alive (0 when unknown or when more are alive than expected). */
export const brokersMissing = (h: ClusterHealth) => (h.brokers === null ? 0 : Math.max(0, h.expected - h.brokers.length));

/** What is wrong with the cluster, one short line each (empty: healthy). */
export function clusterProblems(h: ClusterHealth): string[] {
  const p: string[] = [];
  const few = (xs: string[]) => `${xs.slice(0, 3).join(', ')}${xs.length > 3 ? ` and ${xs.length - 3} more` : ''}`;
  const missing = brokersMissing(h);
  if (missing > 0) p.push(`${missing} of ${h.expected} Kafka broker${h.expected === 1 ? '' : 's'} missing (alive: ${h.brokers?.join(', ') || 'none'})`);
  if (h.offline.length > 0) p.push(`${h.offline.length} Kafka partition${h.offline.length === 1 ? '' : 's'} offline (${few(h.offline)})`);
  if (h.underReplicated.length > 0) p.push(`${h.underReplicated.length} Kafka partition${h.underReplicated.length === 1 ? '' : 's'} under-replicated (${few(h.underReplicated)})`);
  if (h.controller === null && h.brokers !== null) p.push('Kafka has no controller');
  return p;
}

/**
 * Whether kafkajs failed with this protocol error: its error, or one it wraps, has that type. kafkajs wraps
 * in two ways: a retrier's KafkaJSNumberOfRetriesExceeded keeps the last error as `originalError`, and a
 * KafkaJSNonRetriableError (and our own errors) as `cause`; both are followed.
 */
export function isKafkaError(err: unknown, type: 'LEADER_NOT_AVAILABLE' | 'UNKNOWN_TOPIC_OR_PARTITION'): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0 && seen.size < 10) {
    const cur = queue.shift();
    if (!cur || typeof cur !== 'object' || seen.has(cur)) continue;
    seen.add(cur);
    if ((cur as { type?: unknown }).type === type) return true;
    queue.push((cur as { cause?: unknown }).cause, (cur as { originalError?: unknown }).originalError);
  }
  return false;
}

/** Measure the cluster with an admin client that is connected. */
export async function measureCluster(admin: Admin, opts: { topic: string; expected: number }): Promise<ClusterHealth> {
  try {
    const [cluster, meta] = await Promise.all([admin.describeCluster(), admin.fetchTopicMetadata()]);
    return clusterHealthOf({ brokers: cluster.brokers.map((b) => b.nodeId), controller: cluster.controller, topics: meta.topics }, opts.expected, opts.topic);
  } catch (err) {
    if (!isKafkaError(err, 'LEADER_NOT_AVAILABLE')) throw wrap(err, 'kafka cluster metadata', 'measuring the cluster failed');
  }
  // a partition has no leader somewhere: look at the topics that matter one by one; one that fails the
  // same way has at least one offline partition (which ones, kafkajs does not say); one that does not
  // exist (no group has committed yet: no __consumer_offsets) has none
  const topics: TopicPartitions[] = [];
  const leaderless: string[] = [];
  for (const name of [opts.topic, ...PROBED_INTERNAL_TOPICS]) {
    try {
      topics.push(...(await admin.fetchTopicMetadata({ topics: [name] })).topics);
    } catch (err) {
      if (isKafkaError(err, 'LEADER_NOT_AVAILABLE')) leaderless.push(name);
      else if (!isKafkaError(err, 'UNKNOWN_TOPIC_OR_PARTITION')) throw wrap(err, `kafka topic ${name}`, 'measuring the cluster failed');
    }
  }
  const h = clusterHealthOf({ brokers: null, controller: null, topics }, opts.expected, opts.topic, `a partition has no leader (LEADER_NOT_AVAILABLE): only ${[opts.topic, ...PROBED_INTERNAL_TOPICS].join(' and ')} looked at`);
  for (const name of leaderless) {
    h.offline.push(`${name}/?`);
    if (name === opts.topic) h.topic.offline = Math.max(1, h.topic.offline);
  }
  return h;
}

/** Open an admin client, measure, close it. */
export async function measureClusterOnce(kafka: Kafka, opts: { topic: string; expected: number }): Promise<ClusterHealth> {
  try {
    return await withAdmin(kafka, (admin) => measureCluster(admin, opts));
  } catch (err) {
    throw err instanceof KafkalakeError ? err : wrap(err, 'kafka cluster', 'measuring the cluster failed');
  }
}
