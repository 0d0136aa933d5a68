// Regression: a backlog drain with a small heap. Open batches used to be held as JS strings; a line built by
// concatenation costs several times its length in V8, so the buffered third of the heap filled all of it and
// `consume --once` on a 1,000,000-record backlog died "JS heap out of memory" in seconds (48 MB heap: 1.8 s;
// the default 128 MB: 6 s). Now batches are encoded to Buffers as they fill and fetches are bounded by the heap.
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { consumerRun, endOffsets, produce, rssOf, runCli, simulatedMessages, stagedByNames } from './consumer-helpers.js';

const RECORDS = 400_000;
const HEAP_MB = 48;
let stack: TestStack;

test.before(async () => {
  stack = await startTestStack({ kafkaHeapMb: 512 });
});
test.after.always(async () => {
  await stack?.stop();
});

test(`consume --once drains a ${RECORDS}-record backlog with a ${HEAP_MB} MB heap, RSS under 300 MB`, async (t) => {
  t.timeout(6 * 60_000);
  const run = await consumerRun(stack, 'heap', 6, { consumer: { maxHeapMb: HEAP_MB } });
  t.is(await produce(stack.brokers, run.topic, simulatedMessages(0, RECORDS), { batch: 5000 }), RECORDS);

  const cli = runCli(['consume', '--once', '--config', run.cfg]);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(cli.child.pid ?? 0))), 100);
  const { code } = await cli.exited;
  clearInterval(sampler);
  t.is(code, 0, cli.stderr().split('\n').slice(-3).join('\n'));
  t.regex(cli.stdout(), new RegExp(`staged ${RECORDS} records, 0 to the DLQ`));
  t.true(peak > 0 && peak < 300 * 1048576, `peak RSS ${Math.round(peak / 1048576)} MB`);
  // a drain that succeeded says so on stdout and logs no error (a starting group's retried broker responses
  // are kafkajs' debug lines, not errors)
  t.notRegex(cli.stderr(), /"level":"error"/);

  const aws = createAwsClients(stack.config({ aws: { bucket: run.bucket } }));
  try {
    const ends = await endOffsets(stack.brokers, run.topic);
    t.is([...ends.values()].reduce((a, b) => a + b, 0), RECORDS);
    t.is(await stagedByNames(aws.s3, run.bucket, run.topic), RECORDS);
  } finally {
    aws.destroy();
  }
});
