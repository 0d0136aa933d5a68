// The consumer started before its topic exists (a fresh `kafkalake up`, or a host whose consumer unit
// starts before the producer's): it waits, logs that once, and stages every record once the producer has
// created the topic and sent; a stop while it waits is a clean exit 0; a topic that never comes ends in
// one line and exit 1 after consumer.topicWaitMs.
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { unique } from '../helpers/stack.js';
import { endOffsets, missingOffsets, readStaging, runCli, waitFor } from './consumer-helpers.js';
import { sharedStack } from './shared-stack.js';

const shared = sharedStack();

const jsonLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

function config(overrides: Record<string, unknown> = {}) {
  const topic = unique('late');
  return { topic, overrides: { kafka: { topic, partitions: 3 }, log: { level: 'info', format: 'json' }, consumer: { groupId: unique('g') }, metrics: { enabled: false }, ...overrides } };
}

test('a consumer started before the topic exists waits for it, then stages every record the producer sent once', async (t) => {
  t.timeout(4 * 60_000);
  const { stack } = shared;
  const bucket = await stack.bucket();
  const { topic, overrides } = config({ aws: { bucket } });
  const cfg = stack.configFile(overrides);
  const consumer = runCli(['consumer', '--config', cfg]);
  try {
    await waitFor('the consumer to say it waits for the topic', () => consumer.stdout().includes(`waiting for topic ${topic}`), 60_000, 200);
    const waiting = jsonLines(consumer.stdout()).filter((l) => l.message === `waiting for topic ${topic}`);
    t.is(waiting.length, 1, 'said once');
    t.like(waiting[0], { level: 'info', retryMs: 2000, timeoutMs: 300000 });

    // the producer comes second: it creates the topic and sends
    const producer = runCli(['produce', '--source', 'simulate', '--count', '5000', '--symbols', '50', '--config', cfg]);
    const p = await producer.exited;
    t.is(p.code, 0, producer.stderr());
    t.regex(producer.stdout(), /sent 5,000 records/);

    const aws = createAwsClients(stack.config({ aws: { bucket } }));
    try {
      await waitFor('5,000 records staged', async () => (await readStaging(aws.s3, bucket, topic)).rows.size >= 5000, 90_000, 1000);
      const staged = await readStaging(aws.s3, bucket, topic);
      t.deepEqual(staged.duplicates, []);
      t.deepEqual(missingOffsets(staged, await endOffsets(stack.brokers, topic)), []);
      t.is(staged.rows.size, 5000);
    } finally {
      aws.destroy();
    }
    t.falsy(jsonLines(consumer.stdout()).find((l) => l.level === 'error'), consumer.stdout());
  } finally {
    consumer.child.kill('SIGTERM');
  }
  const c = await consumer.exited;
  t.is(c.code, 0, consumer.stderr());
});

test('a stop while the consumer waits for its topic is a clean exit 0', async (t) => {
  const { stack } = shared;
  const { topic, overrides } = config({ aws: { bucket: await stack.bucket() } });
  const consumer = runCli(['consumer', '--config', stack.configFile(overrides)]);
  await waitFor('the consumer to wait', () => consumer.stdout().includes(`waiting for topic ${topic}`), 60_000, 200);
  const t0 = Date.now();
  consumer.child.kill('SIGTERM');
  const c = await consumer.exited;
  t.is(c.code, 0, consumer.stdout() + consumer.stderr());
  t.true(Date.now() - t0 < 10_000, `stopped in ${Date.now() - t0} ms`);
  t.truthy(jsonLines(consumer.stdout()).find((l) => l.message === 'stopped before it started'));
  t.falsy(jsonLines(consumer.stdout()).find((l) => l.level === 'error'));
});

test('a topic that never comes ends the consumer after consumer.topicWaitMs with one line naming it', async (t) => {
  const { stack } = shared;
  const { topic, overrides } = config({ aws: { bucket: await stack.bucket() }, consumer: { groupId: unique('g'), topicWaitMs: 3000 } });
  const consumer = runCli(['consumer', '--config', stack.configFile(overrides)]);
  const c = await consumer.exited;
  t.is(c.code, 1);
  const errors = jsonLines(consumer.stdout()).filter((l) => l.level === 'error');
  t.is(errors.length, 1, consumer.stdout());
  t.regex(String(errors[0]?.error), new RegExp(`topic ${topic} is not usable after 3 s \\(it does not exist\\).*consumer\\.topicWaitMs`));
});
