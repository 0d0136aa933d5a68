// Rebalance on the real local Kafka and the AWS twin: consumer A (a `kafkalake consumer` child) stages a
// flowing topic; consumer B joins the group mid-stream, takes half the partitions, then leaves (SIGTERM:
// flush, commit, leave group) while records still flow; A takes everything back. Staging holds every
// offset exactly once and both consumers did part of the work.
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { consumerRun, endOffsets, missingOffsets, produce, readStaging, runCli, simulatedMessages, sleep, stagedByNames, waitFor } from './consumer-helpers.js';
import { sharedStack } from './shared-stack.js';

const TOTAL = 200_000;
const shared = sharedStack();

test('a second consumer joins then leaves mid-stream: still exactly once', async (t) => {
  t.timeout(5 * 60_000);
  const { stack } = shared;
  const { topic, bucket, cfg } = await consumerRun(stack, 'rebalance', 6, { consumer: { sessionTimeoutMs: 6000, flush: { maxRecords: 5000, intervalMs: 500 } } });
  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  const flow = produce(stack.brokers, topic, simulatedMessages(0, TOTAL), { rate: 5000 });
  const a = runCli(['consumer', '--config', cfg]);
  try {
    await sleep(8000);
    const b = runCli(['consumer', '--config', cfg]);
    // B joins: A gives up half of the partitions
    await waitFor('B to get partitions', () => /"message":"joined the group","partitions":\[\d/.test(b.stdout()), 60_000, 200);
    await sleep(8000);
    b.child.kill('SIGTERM');
    const bExit = await b.exited;
    t.is(bExit.code, 0, b.stdout().slice(-3000));
    t.true(await flow.then((n) => n === TOTAL));
    await waitFor('A to stage everything', async () => (await stagedByNames(aws.s3, bucket, topic)) >= TOTAL, 120_000, 1000);
    t.regex(b.stdout(), /"message":"object written"|"message":"consumer closed".*"staged":[1-9]/);
    // A rebalanced twice (B joining, B leaving) plus its first join
    t.true((a.stdout().match(/"message":"joined the group"/g) ?? []).length >= 3, a.stdout().slice(-3000));
  } finally {
    a.child.kill('SIGTERM');
    t.is((await a.exited).code, 0);
  }
  const staged = await readStaging(aws.s3, bucket, topic, 'staging', { keep: false });
  aws.destroy();
  t.deepEqual(staged.duplicates.slice(0, 20), []);
  t.deepEqual(missingOffsets(staged, await endOffsets(stack.brokers, topic)).slice(0, 20), []);
  t.is(staged.rows.size, TOTAL);
});
