// [slow] Crash test on the real local Kafka and the AWS twin: the consumer daemon (child process
// `kafkalake consumer`) is SIGKILLed at random moments, at least 10 times, while 1,000,000 simulated
// records flow into a 6-partition topic; it is restarted after each kill. A final `kafkalake consume --once`
// drains the rest. Then every object is read back: each (partition, offset) is staged exactly once and
// every record is the one that was sent. Bounded: the flow is paced to ~125 s, the whole test to 8 minutes.
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { consumerRun, endOffsets, missingOffsets, produce, readStaging, type Run, runCli, simulated, simulatedMessages, sleep, type StagedRow } from './consumer-helpers.js';
import { sharedStack } from './shared-stack.js';

const TOTAL = 1_000_000;
const KILLS = 10;
const shared = sharedStack();

test('[slow] SIGKILLed at random moments 10+ times during 1,000,000 records: every offset staged exactly once', async (t) => {
  t.timeout(8 * 60_000);
  const { stack } = shared;
  const { topic, bucket, cfg } = await consumerRun(stack, 'crash', 6, { consumer: { sessionTimeoutMs: 6000, flush: { maxRecords: 20000, intervalMs: 1000 } } });

  let sent = 0;
  let flowing = true;
  const flow = produce(stack.brokers, topic, simulatedMessages(0, TOTAL), { rate: 8_000, onSent: (n) => (sent = n) }).finally(() => (flowing = false));

  let kills = 0;
  let current: Run | undefined;
  const killedAt: number[] = [];
  try {
    while (flowing || kills < KILLS) {
      current = runCli(['consumer', '--config', cfg]);
      const run = current;
      const early = run.exited.then((e) => ({ early: true as const, ...e }));
      // a random moment: one kill in five during start-up (0.5-3 s after spawn), the others 0.5-12 s after
      // the consumer has joined the group (recovering from S3, reading, writing, committing); waiting for
      // the join keeps the test meaningful on a slow machine, where start-up alone can take 10 s
      const moment = async () => {
        if (Math.random() < 0.2) return await sleep(500 + Math.random() * 2500);
        const until = Date.now() + 60_000;
        while (!run.stdout().includes('"message":"joined the group"') && Date.now() < until) await sleep(100);
        await sleep(500 + Math.random() * 11_500);
      };
      const r = await Promise.race([moment().then(() => ({ early: false as const })), early]);
      if (r.early) t.fail(`the consumer exited by itself: ${r.code ?? r.signal}; ${run.stdout().slice(-2000)}`);
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
  // the killed runs staged part of the stream (else the test would prove little); how much depends on the
  // machine's speed: all of it on an idle 2-core box, about a sixth with the load average at 20
  const drained = Number(/staged (\d+) records/.exec(drain.stdout())?.[1] ?? TOTAL);
  t.true(drained < TOTAL, `the final drain staged ${drained}`);
  t.log(`the killed runs staged ${TOTAL - drained} records`);

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
