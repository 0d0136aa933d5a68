// A zombie member (the cluster test's rolling restart once staged records twice through one):
// a `kafkalake consumer` that stalls longer than its session timeout (SIGSTOP here; a long GC pause, a
// frozen VM or a coordinator it cannot reach in production) is expired by the group, and another member
// takes its partitions and resumes after the last staged object. When the stalled one wakes, it still holds
// open batches of records the new owner has staged meanwhile. Without the consumer's lease its timer writes
// them at once, and staging holds those offsets twice; with it, the woken consumer heartbeats first, learns
// it is no longer a member, drops the batches and rejoins. Staging holds every offset exactly once.
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { consumerRun, endOffsets, missingOffsets, produce, readStaging, runCli, simulatedMessages, stagedByNames, waitFor } from './consumer-helpers.js';
import { sharedStack } from './shared-stack.js';

const RATE = 3000;
const TOTAL = 30 * RATE;
const shared = sharedStack();

test('a consumer stalled past its session timeout wakes with open batches its successor staged: it drops them, nothing is staged twice', async (t) => {
  t.timeout(4 * 60_000);
  const { stack } = shared;
  // time-closed objects of up to 3 s: the stalled consumer holds one per partition when it stops
  const { topic, bucket, cfg } = await consumerRun(stack, 'fence', 2, { consumer: { sessionTimeoutMs: 6000, flush: { maxRecords: 1_000_000, intervalMs: 3000 } } });
  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  const flow = produce(stack.brokers, topic, simulatedMessages(0, TOTAL), { rate: RATE, batch: 300 });
  const a = runCli(['consumer', '--config', cfg]);
  let b: ReturnType<typeof runCli> | undefined;
  try {
    await waitFor('A to stage', async () => (await stagedByNames(aws.s3, bucket, topic)) > 2 * RATE, 60_000, 200);
    a.child.kill('SIGSTOP');
    const atStop = await stagedByNames(aws.s3, bucket, topic);
    b = runCli(['consumer', '--config', cfg]);
    // the group waits for A to rejoin until A's session expires, then gives B both partitions
    await waitFor('B to take both partitions', () => /"message":"joined the group","partitions":\[0,1\]/.test(b?.stdout() ?? ''), 60_000, 200);
    // B re-reads what A held open and stages past it
    await waitFor('B to stage past the batches A holds', async () => (await stagedByNames(aws.s3, bucket, topic)) > atStop + 5 * RATE, 60_000, 200);
    a.child.kill('SIGCONT');
    t.is(await flow, TOTAL);
    await waitFor('everything staged', async () => (await stagedByNames(aws.s3, bucket, topic)) >= TOTAL, 90_000, 500);
  } finally {
    a.child.kill('SIGCONT');
    a.child.kill('SIGTERM');
    b?.child.kill('SIGTERM');
    t.is((await a.exited).code, 0, a.stderr().slice(-2000));
    if (b) t.is((await b.exited).code, 0, b.stderr().slice(-2000));
  }
  const staged = await readStaging(aws.s3, bucket, topic, 'staging', { keep: false });
  aws.destroy();
  t.deepEqual(staged.duplicates.slice(0, 20), [], 'no offset staged twice');
  t.deepEqual(missingOffsets(staged, await endOffsets(stack.brokers, topic)).slice(0, 20), [], 'no offset missing');
  t.is(staged.rows.size, TOTAL);
  // the woken consumer did not write what it held: it dropped it, as its log says. Which way is a race
  // run at the wake: the flush timer's lease check heartbeats and is refused (the lease's line), or
  // kafkajs' fetch loop heartbeats first, learns the member expired and rejoins, and the join drops the
  // batches (a flush already past its lease check then sees the new generation and drops its own).
  const drops = a.stdout().match(/"message":"(batch dropped: no answer from the group coordinator|batch dropped: partition reassigned|open batches dropped)[^"]*"/g) ?? [];
  t.log(drops.join("\n"));
  t.true(drops.length > 0, a.stdout().slice(-3000));
});
