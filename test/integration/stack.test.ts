// The local stack: real ZooKeeper, Kafka and the AWS twin, started on free ports, answering, stopped clean.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ListBucketsCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import test, { type ExecutionContext } from 'ava';
import { Kafka, logLevel } from 'kafkajs';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { alive } from '../../daemons/local/process.js';
import { freePort } from '../../daemons/local/ports.js';
import { startTestStack, unique } from '../helpers/stack.js';

const run = promisify(execFile);

/** A temporary directory removed when the test ends, passed or failed. */
function tempDir(t: ExecutionContext, prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
const CLI = path.join(PROJECT_ROOT, 'dist/daemons/cli/main.js');

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const r = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('startTestStack: Kafka takes a topic and a message, the twin takes a bucket, and stop() ends every process', async (t) => {
  const stack = await startTestStack();
  try {
    const kafka = new Kafka({ clientId: 't', brokers: stack.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const topic = unique('stack');
    t.true(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true }));
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    t.is(meta.topics[0]?.partitions.length, 3);
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const [res] = await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'v' }] });
    t.is(res?.errorCode, 0);
    await producer.disconnect();

    const aws = createAwsClients(stack.config());
    await aws.s3.send(new CreateBucketCommand({ Bucket: 'kl-stack-test' }));
    const list = await aws.s3.send(new ListBucketsCommand({}));
    t.true(list.Buckets?.some((b) => b.Name === 'kl-stack-test'));
    aws.destroy();
  } finally {
    const pids = stack.handle.processes.map((p) => p.pid);
    await stack.stop();
    t.deepEqual(pids.filter(alive), [], 'every process of the stack has ended');
  }
});

test('three brokers (the cluster benchmark\'s): a topic replicated 3 ways takes acks=all writes with one broker down, refuses them with two (min.insync.replicas 2)', async (t) => {
  t.timeout(4 * 60_000);
  const stack = await startTestStack({ brokers: 3, kafkaHeapMb: 256 });
  const kafka = new Kafka({ clientId: 't', brokers: stack.brokers, logLevel: logLevel.NOTHING, retry: { retries: 2 } });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 4 } });
  try {
    t.is(stack.brokers.length, 3);
    t.deepEqual(stack.handle.processes.map((p) => p.name).sort(), ['aws', 'kafka', 'kafka-1', 'kafka-2', 'zookeeper']);
    await admin.connect();
    t.deepEqual((await admin.describeCluster()).brokers.map((b) => b.nodeId).sort(), [0, 1, 2]);
    const topic = unique('rf3');
    await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    // every broker learns of the topic a moment after the controller made it (UNKNOWN_TOPIC_OR_PARTITION before)
    let replicated = false;
    for (let i = 0; i < 30 && !replicated; i++) {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
      replicated = meta?.topics[0]?.partitions.length === 3 && meta.topics[0].partitions.every((p) => p.replicas.length === 3 && p.isr.length === 3);
      if (!replicated) await new Promise((r) => setTimeout(r, 1000));
    }
    t.true(replicated, 'three partitions, each on three replicas in sync');
    await producer.connect();
    const send = async () => (await producer.send({ topic, acks: -1, timeout: 5000, messages: [{ key: 'k', value: 'v' }] }))[0]?.errorCode;
    await stack.handle.stopService('kafka-2');
    t.is(await send(), 0, 'two in-sync replicas of three take an acks=all write');
    await stack.handle.stopService('kafka-1');
    const refused = await send().then((code) => `accepted (${code})`, (err: Error) => err.message);
    t.regex(refused, /not enough|insync|in-sync|NOT_ENOUGH_REPLICAS/i, 'one replica alone refuses it');
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await stack.stop();
  }
});

test('KRaft mode runs Kafka without ZooKeeper', async (t) => {
  const stack = await startTestStack({ kraft: true });
  try {
    t.deepEqual(stack.handle.processes.map((p) => p.name).sort(), ['aws', 'kafka']);
    const admin = new Kafka({ clientId: 't', brokers: stack.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const cluster = await admin.describeCluster();
    t.is(cluster.brokers.length, 1);
    await admin.disconnect();
  } finally {
    await stack.stop();
  }
});

test('kafkalake stack start|status|stop: detached processes, status per endpoint, clean stop', async (t) => {
  const dir = tempDir(t, 'kafkalake-cli-stack-');
  const config = path.join(dir, 'config.json');
  const local = {
    stateDir: path.join(dir, 'state'),
    zookeeperPort: await freePort(),
    kafkaPort: await freePort(),
    awsPort: await freePort(),
    kafkaHeapMb: 512,
  };
  writeFileSync(config, JSON.stringify({ mode: 'local', aws: { bucket: 'b' }, kafka: { brokers: [`127.0.0.1:${local.kafkaPort}`] }, local }));
  try {
    const down = await cli(['stack', 'status', '--config', config]);
    t.is(down.code, 1);
    t.regex(down.stdout, /kafka\s+127\.0\.0\.1:\d+\s+DOWN/);

    const start = await cli(['stack', 'start', '--config', config]);
    t.is(start.code, 0, start.stderr);
    for (const name of ['aws', 'zookeeper', 'kafka']) t.regex(start.stdout, new RegExp(`${name}\\s+\\S+\\s+up \\(started\\)`));

    const status = await cli(['stack', 'status', '--config', config, '--json']);
    t.is(status.code, 0);
    const all = JSON.parse(status.stdout) as Array<{ name: string; answers: boolean; pid?: number }>;
    t.deepEqual(all.map((s) => [s.name, s.answers]), [['aws', true], ['zookeeper', true], ['kafka', true]]);
    t.true(all.every((s) => typeof s.pid === 'number'));

    const again = await cli(['stack', 'start', '--config', config]);
    t.is(again.code, 0);
    t.regex(again.stdout, /kafka\s+\S+\s+up \(already running\)/);

    const stop = await cli(['stack', 'stop', '--config', config]);
    t.is(stop.code, 0);
    t.is(stop.stdout.trim(), 'stopped kafka, zookeeper, aws');
    t.true(all.every((s) => s.pid === undefined || !alive(s.pid)));
  } finally {
    await cli(['stack', 'stop', '--config', config]);
  }
});

test('the CLI fails with one line and a code: unknown command, bad flag, bad config', async (t) => {
  const unknown = await cli(['frobnicate']);
  t.is(unknown.code, 2);
  t.is(unknown.stderr, 'kafkalake: unknown command "frobnicate"; run kafkalake --help\n');

  const flag = await cli(['stack', 'status', '--bogus']);
  t.is(flag.code, 2);
  t.regex(flag.stderr, /^kafkalake: Unknown option '--bogus'.*usage: kafkalake stack/);
  t.is(flag.stderr.split('\n').length, 2);

  const dir = tempDir(t, 'kafkalake-cli-');
  const bad = path.join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ kafka: { partitions: 0 } }));
  const cfg = await cli(['stack', 'status', '--config', bad]);
  t.is(cfg.code, 1);
  t.is(cfg.stderr, `kafkalake: config: kafka.partitions = 0 (from ${bad}): must be an integer ≥ 1\n`);

  const envBad = await cli(['stack', 'status', '--config', bad], { KAFKALAKE_KAFKA_PARTITIONS: '3', KAFKALAKE_ETL_CRON: 'soon' });
  t.is(envBad.code, 1);
  t.regex(envBad.stderr, /^kafkalake: config: etl\.cron = "soon" \(from env KAFKALAKE_ETL_CRON\): must be a cron expression/);

  const help = await cli(['--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /stack\s+start, stop or check/);
});
