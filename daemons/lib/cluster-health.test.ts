import test from 'ava';
import type { Admin } from 'kafkajs';
import { brokersMissing, clusterHealthOf, clusterProblems, expectedBrokersOf, isKafkaError, measureCluster, type TopicPartitions } from './cluster-health.js';

const part = (partitionId: number, leader: number, replicas: number[], isr: number[]) => ({ partitionId, leader, replicas, isr });
const healthy: TopicPartitions[] = [
  { name: 'trades', partitions: [part(1, 2, [2, 3, 1], [2, 3, 1]), part(0, 1, [1, 2, 3], [1, 2, 3])] },
  { name: '__consumer_offsets', partitions: [part(0, 3, [3, 1, 2], [3, 1, 2])] },
];

test('a healthy cluster: every broker alive, every partition led and fully in sync', (t) => {
  const h = clusterHealthOf({ brokers: [3, 1, 2], controller: 2, topics: healthy }, 3, 'trades');
  t.deepEqual(h.brokers, [1, 2, 3]);
  t.like(h, { expected: 3, controller: 2, underReplicated: [], offline: [], topics: 2, partitions: 3, topic: { name: 'trades', partitions: 2, underReplicated: 0, offline: 0 } });
  t.is(brokersMissing(h), 0);
  t.deepEqual(clusterProblems(h), []);
});

test('a dead broker: its partitions are under-replicated (isr shorter than replicas), one without another in-sync replica is offline', (t) => {
  const topics: TopicPartitions[] = [
    { name: 'trades', partitions: [part(0, 1, [1, 2, 3], [1, 2]), part(1, 2, [2, 3, 1], [2, 1]), part(2, -1, [3], [3])] },
    { name: '__consumer_offsets', partitions: [part(7, 1, [3, 1, 2], [1, 2]), part(8, 1, [1, 2, 3], [1, 2, 3])] },
  ];
  const h = clusterHealthOf({ brokers: [1, 2], controller: 1, topics }, 3, 'trades');
  t.deepEqual(h.underReplicated, ['__consumer_offsets/7', 'trades/0', 'trades/1']);
  t.deepEqual(h.offline, ['trades/2']);
  t.deepEqual(h.topic, { name: 'trades', partitions: 3, underReplicated: 2, offline: 1 });
  t.is(brokersMissing(h), 1);
  t.deepEqual(clusterProblems(h), [
    '1 of 3 Kafka brokers missing (alive: 1, 2)',
    '1 Kafka partition offline (trades/2)',
    '3 Kafka partitions under-replicated (__consumer_offsets/7, trades/0, trades/1)',
  ]);
});

test('problems name a few partitions, not hundreds; more brokers than expected is not a problem; no controller is', (t) => {
  const many: TopicPartitions[] = [{ name: 't', partitions: Array.from({ length: 40 }, (_, i) => part(i, 1, [1, 2], [1])) }];
  const h = clusterHealthOf({ brokers: [1, 2, 3, 4], controller: null, topics: many }, 3, 't');
  t.is(brokersMissing(h), 0);
  t.deepEqual(clusterProblems(h), ['40 Kafka partitions under-replicated (t/0, t/1, t/2 and 37 more)', 'Kafka has no controller']);
});

test('kafka.expectedBrokers 0 means every broker of kafka.brokers', (t) => {
  t.is(expectedBrokersOf({ brokers: ['a:9092', 'b:9092', 'c:9092'], expectedBrokers: 0 }), 3);
  t.is(expectedBrokersOf({ brokers: ['a:9092'], expectedBrokers: 3 }), 3);
});

// kafkajs' shapes: a protocol error carries its type; a retried one is wrapped in KafkaJSNumberOfRetriesExceeded
const leaderless = () => Object.assign(new Error('There is no leader for this topic-partition as we are in the middle of a leadership election'), { type: 'LEADER_NOT_AVAILABLE', retriable: true });
const retriesExceeded = (cause: Error) => Object.assign(new Error(cause.message), { name: 'KafkaJSNumberOfRetriesExceeded', cause });

test('LEADER_NOT_AVAILABLE is recognised directly and under the retries wrapper; other errors are not', (t) => {
  t.true(isKafkaError(leaderless(), 'LEADER_NOT_AVAILABLE'));
  t.true(isKafkaError(retriesExceeded(leaderless()), 'LEADER_NOT_AVAILABLE'));
  // the local stack's probe met both: a retrier's wrapper that keeps only originalError, and a
  // KafkaJSNonRetriableError around a wrapper, whose cause skips to the protocol error
  t.true(isKafkaError(Object.assign(new Error('retries'), { originalError: leaderless() }), 'LEADER_NOT_AVAILABLE'));
  t.true(isKafkaError(retriesExceeded(Object.assign(new Error('wrapped'), { originalError: retriesExceeded(leaderless()) })), 'LEADER_NOT_AVAILABLE'));
  t.false(isKafkaError(Object.assign(new Error('x'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' }), 'LEADER_NOT_AVAILABLE'));
  t.true(isKafkaError(Object.assign(new Error('x'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' }), 'UNKNOWN_TOPIC_OR_PARTITION'));
  t.false(isKafkaError(new Error('connect ECONNREFUSED'), 'LEADER_NOT_AVAILABLE'));
});

/** An admin that answers from fixed metadata, as kafkajs does: any partition without a leader fails the whole request. */
function fakeAdmin(topics: TopicPartitions[], brokers: number[], controller: number): Admin {
  const check = (ts: TopicPartitions[]) => {
    if (ts.some((x) => x.partitions.some((p) => p.leader < 0))) throw retriesExceeded(leaderless());
    return ts;
  };
  return {
    describeCluster: () => Promise.resolve().then(() => (check(topics), { brokers: brokers.map((nodeId) => ({ nodeId, host: 'h', port: 9092 })), controller, clusterId: 'c' })),
    fetchTopicMetadata: (o?: { topics: string[] }) =>
      Promise.resolve().then(() => {
        if (o?.topics.some((n) => !topics.some((x) => x.name === n))) throw Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
        return { topics: check(o ? topics.filter((x) => o.topics.includes(x.name)) : topics).map((x) => ({ ...x, partitions: x.partitions.map((p) => ({ ...p, partitionErrorCode: 0 })) })) };
      }),
  } as unknown as Admin;
}

test('measureCluster reads brokers, controller and every topic from the admin API', async (t) => {
  const h = await measureCluster(fakeAdmin(healthy, [1, 2, 3], 3), { topic: 'trades', expected: 3 });
  t.like(h, { brokers: [1, 2, 3], controller: 3, partitions: 3, underReplicated: [], offline: [] });
  t.is(h.partial, undefined);
});

test('a partition without a leader hides the metadata from kafkajs: the pipeline topic and __consumer_offsets are looked at one by one', async (t) => {
  const topics: TopicPartitions[] = [
    { name: 'trades', partitions: [part(0, -1, [3], [3]), part(1, 1, [1, 3], [1])] },
    { name: '__consumer_offsets', partitions: [part(0, 1, [1, 3], [1])] },
    { name: 'other', partitions: [part(0, 1, [1], [1])] },
  ];
  const h = await measureCluster(fakeAdmin(topics, [1], 1), { topic: 'trades', expected: 3 });
  t.is(h.brokers, null);
  t.deepEqual(h.offline, ['trades/?']);
  t.deepEqual(h.underReplicated, ['__consumer_offsets/0']);
  t.like(h.topic, { offline: 1 });
  t.regex(h.partial ?? '', /LEADER_NOT_AVAILABLE.*trades and __consumer_offsets/);
  t.is(brokersMissing(h), 0, 'unknown brokers are not counted missing');
  t.deepEqual(clusterProblems(h), ['1 Kafka partition offline (trades/?)', '1 Kafka partition under-replicated (__consumer_offsets/0)']);
});

test('without __consumer_offsets (no group committed yet) the probe counts the pipeline topic alone', async (t) => {
  const topics: TopicPartitions[] = [{ name: 'trades', partitions: [part(0, -1, [3], [3])] }];
  const h = await measureCluster(fakeAdmin(topics, [1], 1), { topic: 'trades', expected: 1 });
  t.deepEqual(h.offline, ['trades/?']);
  t.is(h.topics, 0);
});

test('any other failure is reported as the measurement failing', async (t) => {
  const admin = { describeCluster: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')), fetchTopicMetadata: () => Promise.resolve({ topics: [] }) } as unknown as Admin;
  const e = await t.throwsAsync(measureCluster(admin, { topic: 'trades', expected: 1 }));
  t.regex(e?.message ?? '', /^measuring the cluster failed: connect ECONNREFUSED/);
});
