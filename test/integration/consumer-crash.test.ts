// [slow] Crash test on the real local Kafka and the AWS twin: the consumer daemon (child process
// `kafkalake consumer`) is SIGKILLed at random moments, at least 10 times, while 1,000,000 simulated
// records flow into a 6-partition topic; it is restarted after each kill. A final `kafkalake consume --once`
// drains the rest. Then every object is read back: each (partition, offset) is staged exactly once and
// every record is the one that was sent. Bounded: the flow is paced to ~125 s, the whole test to 8 minutes.
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';
import { createTopic, endOffsets, missingOffsets, produce, readStaging, type Run, runCli, simulated, simulatedMessages, type StagedRow } from './consumer-helpers.js';

const TOTAL = 1_000_000;
const KILLS = 10;
let stack: TestStack;

test.before(async () => {
  stack = await startTestStack();
});
test.after.always(async () => {
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('[slow] SIGKILLed at random moments 10+ times during 1,000,000 records: every offset staged exactly once', async (t) => {
  t.timeout(8 * 60_000);
  const topic = unique('crash');
  const bucket = await stack.bucket();
  await createTopic(stack.brokers, topic, 6);
  const cfg = stack.configFile({
    kafka: { topic },
    aws: { bucket },
    consumer: { groupId: unique('g'), sessionTimeoutMs: 6000, flush: { maxRecords: 20000, intervalMs: 1000 } },
    metrics: { enabled: false },
  });

  let sent = 0;
  let flowing = true;
  const flow = produce(stack.brokers, topic, simulatedMessages(0, TOTAL), { rate: 8_000, onSent: (n) => (sent = n) }).finally(() => (flowing = false));

  let kills = 0;
  let current: Run | undefined;
  const killedAt: number[] = [];
  try {
    while (flowing || kills < KILLS) {
      current = runCli(['consumer', '--config', cfg]);
      const early = current.exited.then((e) => ({ early: true as const, ...e }));
      // a random moment 2-16 s after start: joining (a rejoin waits ~6 s for the killed member's session to
      // expire), recovering from S3, reading, writing, committing
      const r = await Promise.race([sleep(2000 + Math.random() * 14_000).then(() => ({ early: false as const })), early]);
      if (r.early) t.fail(`the consumer exited by itself: ${r.code ?? r.signal}; ${current.stdout().slice(-2000)}`);
      current.child.kill('SIGKILL');
      await current.exited;
      kills++;
      killedAt.push(sent);
    }
    t.is(await flow, TOTAL);
  } finally {
    if (current && current.child.exitCode === null && current.child.signalCode === null) current.child.kill('SIGKILL');
  }
  t.true(kills >= KILLS);
  t.log(`${kills} kills at ${killedAt.join(', ')} records sent`);

  // the rest is drained by a final run (it also recovers from the last kill)
  const drain = runCli(['consume', '--once', '--config', cfg]);
  t.is((await drain.exited).code, 0, drain.stderr());
  t.log(drain.stdout().trim());
  // the killed runs did most of the work (else the test would prove little)
  const drained = Number(/staged (\d+) records/.exec(drain.stdout())?.[1] ?? TOTAL);
  t.true(drained < TOTAL / 2, `the final drain staged ${drained}`);

  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  let wrong = 0;
  const staged = await readStaging(aws.s3, bucket, topic, 'staging', {
    keep: false,
    onRow: (row: StagedRow) => {
      const want = simulated(Number(row.seq));
      for (const [k, v] of Object.entries(want)) if (row[k] !== v) wrong++;
      if (row._key !== want.index || row._topic !== topic) wrong++;
    },
  });
  aws.destroy();
  t.log(`${staged.objects} objects`);
  t.deepEqual(staged.duplicates.slice(0, 20), []);
  t.deepEqual(staged.badNames.slice(0, 20), []);
  t.deepEqual(missingOffsets(staged, await endOffsets(stack.brokers, topic)).slice(0, 20), []);
  t.is(staged.rows.size, TOTAL);
  t.is(staged.dead.size, 0);
  t.is(wrong, 0);
});
