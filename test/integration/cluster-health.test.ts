// The Kafka cluster's health against the real single-broker stack, made unhealthy the cheap ways: a topic
// whose partition 0 has a replica on broker 99, which does not exist (written to ZooKeeper as the old
// `kafka-topics --zookeeper` did: the controller creates it with the live replica alone in sync, so it is
// under-replicated for good), and kafka.expectedBrokers 2 where one broker runs (one missing). The scheduler's
// monitor publishes both to the twin's CloudWatch, kafkalake's evaluation puts their alarms in ALARM, and
// `kafkalake status` says unhealthy, naming the partition. A stack of its own: the broken topic would make
// every other test's cluster unhealthy.
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import test from 'ava';
import type { StatusReport } from '../../daemons/cli/status-report.js';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { measureCluster } from '../../daemons/lib/cluster-health.js';
import { createKafka, withAdmin } from '../../daemons/lib/kafka.js';
import { createLogger } from '../../daemons/lib/log.js';
import { createMetrics } from '../../daemons/lib/metrics.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { startMonitors } from '../../daemons/scheduler/monitors.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';

let stack: TestStack;
const log = createLogger({ daemon: 'cluster-test', level: 'error', stream: process.stderr });
const CLI = `${PROJECT_ROOT}/dist/daemons/cli/main.js`;
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.before(async () => {
  stack = await startTestStack();
});
test.after.always(async () => {
  await stack?.stop();
});

/** ZooKeeper's own CLI from the stack's jars. */
const zk = (...args: string[]) =>
  execFileSync(process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java', ['-cp', path.join(stack.handle.settings.libDir, '*'), 'org.apache.zookeeper.ZooKeeperMain', '-server', `127.0.0.1:${stack.handle.settings.zookeeperPort}`, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });

test.serial('the stack is healthy first: 1/1 broker up with its controller, no partition under-replicated or offline', async (t) => {
  const topic = unique('healthy');
  const kafka = createKafka({ kafka: stack.config().kafka, log });
  const h = await withAdmin(kafka, async (admin) => {
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
    return measureCluster(admin, { topic, expected: 1 });
  });
  t.is(h.brokers?.length, 1);
  t.is(h.controller, h.brokers?.[0] ?? -1);
  t.like(h, { expected: 1, underReplicated: [], offline: [], topic: { name: topic, partitions: 3, underReplicated: 0, offline: 0 } });
});

test.serial('an under-replicated partition and a missing broker: published, alarmed, and status unhealthy naming them', async (t) => {
  t.timeout(4 * 60_000);
  const topic = unique('urp');
  const brokerId = (await withAdmin(createKafka({ kafka: stack.config().kafka, log }), (a) => a.describeCluster())).brokers[0]?.nodeId ?? 0;
  zk('create', `/brokers/topics/${topic}`, JSON.stringify({ version: 2, partitions: { 0: [brokerId, 99], 1: [brokerId] }, adding_replicas: {}, removing_replicas: {} }));

  const bucket = await stack.bucket();
  const namespace = unique('KLCluster');
  const prefix = `${unique('cl')}-`;
  const overrides = { aws: { bucket }, kafka: { topic, expectedBrokers: 2 }, metrics: { namespace, flushIntervalMs: 2000 }, monitoring: { periodSeconds: 10, alarmPrefix: prefix } };
  const c = stack.config(overrides);
  const admin = createKafka({ kafka: c.kafka, log }).admin();
  await admin.connect();
  let h = await measureCluster(admin, { topic, expected: 2 });
  for (let i = 0; i < 20 && h.topic.partitions < 2; i++) {
    await sleep(500); // the controller creates the partitions a moment after the znode appears
    h = await measureCluster(admin, { topic, expected: 2 });
  }
  t.deepEqual(h.underReplicated, [`${topic}/0`]);
  t.like(h, { brokers: [brokerId], expected: 2, offline: [], topic: { partitions: 2, underReplicated: 1, offline: 0 } });

  // the scheduler's monitor, publishing to the twin
  const aws = createAwsClients(c);
  const metrics = createMetrics({ cloudwatch: aws.cloudwatch, namespace, daemon: 'scheduler', log, flushIntervalMs: 3_600_000 });
  const monitors = startMonitors({ log, metrics, cluster: { admin, topic, expectedBrokers: 2, intervalMs: 3_600_000 } });
  await monitors.clusterOnce();
  await monitors.close();
  await metrics.close();
  await admin.disconnect();
  const q = (id: string, name: string, dims: Record<string, string>) => ({
    Id: id,
    MetricStat: { Metric: { Namespace: namespace, MetricName: name, Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })) }, Period: 600, Stat: 'Maximum' },
  });
  const m = await aws.cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(Date.now() - 600_000),
      EndTime: new Date(Date.now() + 60_000),
      MetricDataQueries: [
        q('alive', 'BrokersAlive', { Daemon: 'scheduler' }),
        q('expected', 'BrokersExpected', { Daemon: 'scheduler' }),
        q('missing', 'BrokersMissing', { Daemon: 'scheduler' }),
        q('urp', 'UnderReplicatedPartitions', { Daemon: 'scheduler' }),
        q('urpTopic', 'UnderReplicatedPartitions', { Daemon: 'scheduler', Topic: topic }),
        q('offline', 'OfflinePartitions', { Daemon: 'scheduler' }),
      ],
    }),
  );
  aws.destroy();
  const v = (id: string) => m.MetricDataResults?.find((x) => x.Id === id)?.Values;
  t.deepEqual(
    ['alive', 'expected', 'missing', 'urp', 'urpTopic', 'offline'].map((id) => [id, v(id)]),
    [
      ['alive', [1]],
      ['expected', [2]],
      ['missing', [1]],
      ['urp', [1]],
      ['urpTopic', [1]],
      ['offline', [0]],
    ],
  );

  // bootstrap makes the alarms; status evaluates them (local mode) and says what is wrong
  const file = stack.configFile(overrides);
  const boot = cli(['bootstrap', '--config', file]);
  t.is(boot.status, 0, boot.stderr);
  const j = cli(['status', '--config', file, '--json']);
  t.is(j.status, 3, j.stderr);
  const r = JSON.parse(j.stdout) as StatusReport;
  t.true(r.problems.includes(`1 of 2 Kafka brokers missing (alive: ${brokerId})`), r.problems.join('; '));
  t.true(r.problems.includes(`1 Kafka partition under-replicated (${topic}/0)`), r.problems.join('; '));
  const inAlarm = r.alarms.ok ? r.alarms.value.inAlarm.map((a) => a.name) : [];
  t.true(inAlarm.includes(`${prefix}brokers-missing`), JSON.stringify(r.alarms));
  t.true(inAlarm.includes(`${prefix}under-replicated-partitions`), JSON.stringify(r.alarms));
  t.false(inAlarm.includes(`${prefix}offline-partitions`), JSON.stringify(r.alarms));

  const text = cli(['status', '--config', file]);
  t.log(text.stdout);
  t.is(text.status, 3);
  t.regex(text.stdout, new RegExp(`^CLUSTER {4}1/2 brokers up \\(alive: ${brokerId}\\), controller ${brokerId}; 1 under-replicated, 0 offline partitions\\n {11}under-replicated: ${topic}/0$`, 'm'));
  t.regex(text.stdout, /^UNHEALTHY .*1 of 2 Kafka brokers missing/m);
});

// last: it restarts the broker. A partition whose only replica is broker 99, its state written to ZooKeeper
// with no leader, is loaded by the restarted controller as offline: Kafka answers LEADER_NOT_AVAILABLE for
// it, and kafkajs then refuses the whole metadata response, so the measurement falls back to the pipeline's
// topic and __consumer_offsets one by one.
test.serial('an offline partition (no leader): counted although kafkajs refuses the metadata, status unhealthy naming its topic', async (t) => {
  t.timeout(4 * 60_000);
  const topic = unique('offline');
  const brokerId = (await withAdmin(createKafka({ kafka: stack.config().kafka, log }), (a) => a.describeCluster())).brokers[0]?.nodeId ?? 0;
  zk('create', `/brokers/topics/${topic}`, JSON.stringify({ version: 2, partitions: { 0: [99], 1: [brokerId] }, adding_replicas: {}, removing_replicas: {} }));
  await sleep(2000); // the controller creates partition 1 (and its partitions/ znode); partition 0 has no live replica
  zk('create', `/brokers/topics/${topic}/partitions/0`, '');
  zk('create', `/brokers/topics/${topic}/partitions/0/state`, JSON.stringify({ controller_epoch: 1, leader: -1, version: 1, leader_epoch: 0, isr: [99] }));
  await stack.handle.stopService('kafka');
  await stack.handle.startService('kafka');

  const c = stack.config({ kafka: { topic, retries: 1 } });
  const measure = () => withAdmin(createKafka({ kafka: c.kafka, log }), (admin) => measureCluster(admin, { topic, expected: 1 }));
  // the restarted controller sends the partitions' state a moment after the listener opens, and until then
  // a metadata request may fail outright (a loaded machine makes that moment longer): measured again
  let h: Awaited<ReturnType<typeof measure>> | undefined;
  let last: unknown;
  for (let i = 0; i < 30 && !(h && h.offline.length > 0); i++) {
    if (i > 0) await sleep(1000);
    try {
      h = await measure();
    } catch (err) {
      last = err;
    }
  }
  if (!h) return t.fail(`the cluster was never measured: ${(last as Error | undefined)?.message ?? '?'}`);
  t.deepEqual(h.offline, [`${topic}/?`], JSON.stringify(h));
  t.like(h, { brokers: null, topic: { offline: 1 } });
  t.regex(h.partial ?? '', /LEADER_NOT_AVAILABLE/);

  const j = cli(['status', '--config', stack.configFile({ aws: { bucket: await stack.bucket() }, kafka: { topic } }), '--json']);
  const r = JSON.parse(j.stdout) as StatusReport;
  t.is(j.status, 3);
  t.true(r.problems.includes(`1 Kafka partition offline (${topic}/?)`), r.problems.join('; '));
});
