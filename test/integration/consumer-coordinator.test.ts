// The group coordinator's broker goes down under load (issue 19): on three local brokers (replication
// factor 3, the offsets topic too), one `kafkalake consumer` stages a flowing topic while the broker that
// coordinates its group is stopped for longer than the session timeout and started again. The group moves
// to another broker; commits in flight fail, the member may be expired and rejoin with a new generation.
// The consumer must go on staging (a commit that fails is logged and left: the next object commits again)
// and staging holds every offset exactly once. Before the consumer committed once per object, kafkajs'
// consumer.commitOffsets retried a stale generation for ever under the partition's lock, and staging stopped.
import test from 'ava';
import { Kafka, logLevel } from 'kafkajs';
import { createAwsClients } from '../../daemons/lib/aws.js';
import type { ServiceName } from '../../daemons/local/services.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';
import { createTopic, endOffsets, missingOffsets, produce, readStaging, runCli, simulatedMessages, sleep, stagedByNames, waitFor } from './consumer-helpers.js';

const TOTAL = 150_000;
const RATE = 3000;
/** offsets.topic.num.partitions of the local stack (daemons/local/services.ts) */
const OFFSETS_PARTITIONS = 10;

let stack: TestStack | undefined;
test.before(async () => {
  stack = await startTestStack({ brokers: 3, kafkaHeapMb: 256 });
});
test.after.always(async () => {
  await stack?.stop();
});

/** Kafka's choice of the offsets partition for a group: Utils.abs(groupId.hashCode()) % partitions */
function offsetsPartition(groupId: string): number {
  let h = 0;
  for (let i = 0; i < groupId.length; i++) h = (Math.imul(31, h) + groupId.charCodeAt(i)) | 0;
  return (h & 0x7fffffff) % OFFSETS_PARTITIONS;
}

test('the broker coordinating the group stopped for twice the session timeout under load: the consumer goes on, every offset staged once', async (t) => {
  t.timeout(6 * 60_000);
  if (!stack) throw new Error('no stack');
  const brokers = stack.brokers;
  const topic = unique('coord');
  const groupId = unique('g');
  const bucket = await stack.bucket();
  await createTopic(brokers, topic, 6, 3);
  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  const cfg = stack.configFile({
    kafka: { topic },
    aws: { bucket },
    log: { level: 'info' },
    metrics: { enabled: false },
    consumer: { groupId, sessionTimeoutMs: 6000, flush: { maxRecords: 1000, intervalMs: 300 } },
  });
  const admin = new Kafka({ clientId: 'coord-test', brokers, logLevel: logLevel.NOTHING, retry: { retries: 10 } }).admin();
  await admin.connect();
  const flow = produce(brokers, topic, simulatedMessages(0, TOTAL), { rate: RATE, batch: 500 });
  const a = runCli(['consumer', '--config', cfg]);
  let stopped: ServiceName | undefined;
  let inTopic = 0;
  try {
    await waitFor('the consumer to stage', async () => (await stagedByNames(aws.s3, bucket, topic)) > 10_000, 60_000, 500);
    // the coordinator is the leader of the group's offsets partition
    const meta = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
    const leader = meta.topics[0]?.partitions.find((p) => p.partitionId === offsetsPartition(groupId))?.leader;
    t.true(leader === 0 || leader === 1 || leader === 2, `coordinator ${leader}`);
    stopped = leader === 0 ? 'kafka' : `kafka-${leader as number}`;
    const before = await stagedByNames(aws.s3, bucket, topic);
    await stack.handle.stopService(stopped);
    await sleep(12_000);
    await stack.handle.startService(stopped);
    stopped = undefined;
    const acked = await flow;
    t.is(acked, TOTAL);
    t.true(before < TOTAL, 'the broker stopped while records still flowed');
    // the test's producer is kafkajs too: before patches/kafkajs+2.2.4.patch, a send could resolve without
    // the partitions that had moved to a broker which had already answered (tulios/kafkajs#1303)
    inTopic = [...(await endOffsets(brokers, topic)).values()].reduce((x, y) => x + y, 0);
    t.is(inTopic, TOTAL, 'the topic holds every acknowledged record, once');
    await waitFor('the consumer to stage everything', async () => (await stagedByNames(aws.s3, bucket, topic)) >= inTopic, 90_000, 1000).catch((err: unknown) => {
      t.log(a.stdout().slice(-4000));
      throw err;
    });
  } finally {
    if (stopped) await stack.handle.startService(stopped).catch(() => undefined);
    a.child.kill('SIGTERM');
    t.is((await a.exited).code, 0, a.stdout().slice(-3000));
    await admin.disconnect();
  }
  t.log(`commit failures logged: ${(a.stdout().match(/"message":"offset commit[^"]*failed/g) ?? []).length}, joins: ${(a.stdout().match(/"message":"joined the group"/g) ?? []).length}`);
  const staged = await readStaging(aws.s3, bucket, topic, 'staging', { keep: true });
  aws.destroy();
  t.deepEqual(staged.duplicates.slice(0, 20), []);
  t.deepEqual(missingOffsets(staged, await endOffsets(brokers, topic)).slice(0, 20), []);
  t.is(staged.rows.size, inTopic);
  // every acknowledged record is staged
  const seqs = new Set([...staged.rows.values()].map((r) => r.seq as number));
  const unstaged: number[] = [];
  for (let i = 0; i < TOTAL; i++) if (!seqs.has(i)) unstaged.push(i);
  t.deepEqual(unstaged.slice(0, 20), [], `${unstaged.length} acknowledged records are not staged`);
});
