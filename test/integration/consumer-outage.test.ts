// Outage on the real local Kafka and the AWS twin: the consumer daemon (child process) reaches the twin
// through a loopback TCP proxy (test/helpers/tcp-proxy.ts). Mid-stream the proxy cuts and refuses every
// connection for 20 s (moto keeps its state only in memory and loses it on restart, so the twin is made
// unreachable rather than stopped), then lets them through again. Nothing is lost or doubled, the child's
// RSS stays under the configured bound the whole time, and it logs clearly while S3 is down.
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { unique } from '../helpers/stack.js';
import { consumerRun, endOffsets, missingOffsets, produce, readStaging, rssOf, runCli, simulatedMessages, sleep, stagedByNames, waitFor } from './consumer-helpers.js';
import { sharedStack } from './shared-stack.js';

const TOTAL = 150_000;
const RSS_BOUND = 300 * 1024 * 1024;
const shared = sharedStack({ proxy: true });

test('the AWS twin unreachable for 20 s mid-stream: nothing lost, nothing doubled, memory bounded, a clear log line', async (t) => {
  t.timeout(5 * 60_000);
  const { stack, proxy } = shared;
  const { topic, bucket, cfg } = await consumerRun(stack, 'outage', 6, {
    aws: { endpoint: proxy.url, maxAttempts: 2, requestTimeoutMs: 3000 },
    consumer: { flush: { intervalMs: 1000 }, maxBufferedBytes: 32 * 1024 * 1024 },
    metrics: { enabled: true, flushIntervalMs: 1000, namespace: unique('KafkaLakeTest') },
  });
  const direct = createAwsClients(stack.config({ aws: { bucket } }));
  const flow = produce(stack.brokers, topic, simulatedMessages(0, TOTAL), { rate: 5000 });
  const c = runCli(['consumer', '--config', cfg]);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(c.child.pid ?? 0))), 250);
  try {
    await waitFor('the first objects', async () => (await stagedByNames(direct.s3, bucket, topic)) > 10_000, 60_000);
    proxy.off();
    const downAt = new Date().toISOString();
    await sleep(20_000);
    const stagedWhileDown = await stagedByNames(direct.s3, bucket, topic);
    await sleep(0);
    const logDuringOutage = c.stdout();
    proxy.on();
    const upAt = new Date().toISOString();
    t.is(await flow, TOTAL);
    await waitFor('everything staged after the outage', async () => (await stagedByNames(direct.s3, bucket, topic)) >= TOTAL, 120_000, 1000);
    // the clear line, written while it was down
    const line = logDuringOutage.split('\n').find((l) => l.includes('S3 unreachable: staging paused'));
    t.truthy(line, logDuringOutage.slice(-3000));
    const entry = JSON.parse(line ?? '{}') as { level: string; timestamp: string; where: string; error: string };
    t.is(entry.level, 'error');
    t.true(entry.timestamp >= downAt && entry.timestamp <= upAt);
    t.regex(entry.where, new RegExp(`^s3://${bucket}/staging/${topic}/dt=`));
    t.regex(c.stdout(), /"message":"S3 answers again: staging resumes"/);
    t.regex(c.stdout(), /CloudWatch unreachable, metrics kept/);
    t.log(`staged by names when the twin came back: ${stagedWhileDown}; peak RSS ${(peak / 1048576).toFixed(0)} MB`);
  } finally {
    clearInterval(sampler);
    c.child.kill('SIGTERM');
  }
  t.is((await c.exited).code, 0);
  t.true(peak > 0 && peak < RSS_BOUND, `peak RSS ${peak}`);
  const staged = await readStaging(direct.s3, bucket, topic, 'staging', { keep: false });
  direct.destroy();
  t.deepEqual(staged.duplicates.slice(0, 20), []);
  t.deepEqual(missingOffsets(staged, await endOffsets(stack.brokers, topic)).slice(0, 20), []);
  t.is(staged.rows.size, TOTAL);
});
