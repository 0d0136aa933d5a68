// The consumer on the real local Kafka and the AWS twin: the whole indexProcessed.csv replay lands in
// staging (via `kafkalake consume --once`, a child process) with each (partition, offset) exactly once and
// every field intact; a second --once run stages nothing again; names, envelope and gzip are as documented.
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';
import { createTopic, csvRows, endOffsets, missingOffsets, produce, readStaging, runCli } from './consumer-helpers.js';

const CSV = '/work/shared/data/stock-exchange/indexProcessed.csv';
let stack: TestStack;

test.before(async () => {
  stack = await startTestStack();
});
test.after.always(async () => {
  await stack?.stop();
});

test('the full indexProcessed.csv replay lands in staging exactly once with every field intact', async (t) => {
  t.timeout(8 * 60_000);
  const topic = unique('csv');
  const bucket = await stack.bucket();
  const rows = csvRows(CSV);
  t.is(rows.length, 104_224);
  await createTopic(stack.brokers, topic, 6);
  const eventTime = '2026-01-01T00:00:00.000Z';
  const sent = await produce(
    stack.brokers,
    topic,
    rows.map((r) => ({ key: String(r.index), value: JSON.stringify({ ...r, event_time: eventTime }) })),
  );
  t.is(sent, rows.length);

  const cfg = stack.configFile({ kafka: { topic }, aws: { bucket }, consumer: { groupId: unique('g') }, metrics: { enabled: false } });
  const run = runCli(['consume', '--once', '--config', cfg]);
  const { code } = await run.exited;
  t.is(code, 0, run.stderr());
  t.regex(run.stdout(), /staged 104224 records, 0 to the DLQ/);

  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  const staged = await readStaging(aws.s3, bucket, topic);
  const ends = await endOffsets(stack.brokers, topic);
  t.deepEqual(staged.duplicates, []);
  t.deepEqual(staged.badNames, []);
  t.deepEqual(missingOffsets(staged, ends), []);
  t.is(staged.rows.size, 104_224);
  t.is(staged.dead.size, 0);

  // every field intact: the multiset of CSV rows equals the multiset of staged rows minus the envelope
  const canon = (r: Record<string, unknown>) => JSON.stringify(Object.keys(r).sort().map((k) => [k, r[k]]));
  const want = new Map<string, number>();
  for (const r of rows) want.set(canon({ ...r, event_time: eventTime }), (want.get(canon({ ...r, event_time: eventTime })) ?? 0) + 1);
  let mismatched = 0;
  for (const row of staged.rows.values()) {
    const { _topic, _partition, _offset, _timestamp, _key, ...fields } = row;
    if (_topic !== topic || _key !== fields.index || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(_timestamp) || typeof _offset !== 'number' || typeof _partition !== 'number') mismatched++;
    const k = canon(fields);
    const n = want.get(k) ?? 0;
    if (n === 0) mismatched++;
    else want.set(k, n - 1);
  }
  t.is(mismatched, 0);
  t.true([...want.values()].every((n) => n === 0));
  // the producer keys by index, so each index keeps its order within its partition
  const lastDate = new Map<string, string>();
  let outOfOrder = 0;
  for (const p of [...ends.keys()]) {
    for (let o = 0; o < (ends.get(p) ?? 0); o++) {
      const r = staged.rows.get(`${p}:${o}`);
      if (!r) continue;
      const prev = lastDate.get(String(r.index));
      if (prev !== undefined && prev > String(r.date)) outOfOrder++;
      lastDate.set(String(r.index), String(r.date));
    }
  }
  t.is(outOfOrder, 0);

  // a second drain finds everything staged and writes nothing
  const again = runCli(['consume', '--once', '--config', stack.configFile({ kafka: { topic }, aws: { bucket }, consumer: { groupId: unique('g2') }, metrics: { enabled: false } })]);
  t.is((await again.exited).code, 0, again.stderr());
  t.regex(again.stdout(), /staged 0 records, 0 to the DLQ/);
  const after = await readStaging(aws.s3, bucket, topic);
  t.is(after.objects, staged.objects);
  aws.destroy();
});

test('a missing bucket or topic ends consume --once with one line naming it', async (t) => {
  t.timeout(2 * 60_000);
  const topic = unique('nobucket');
  await createTopic(stack.brokers, topic, 1);
  await produce(stack.brokers, topic, [{ key: 'NYA', value: '{"index":"NYA"}' }]);
  const noBucket = runCli(['consume', '--once', '--config', stack.configFile({ kafka: { topic }, aws: { bucket: 'kl-no-such-bucket' }, consumer: { groupId: unique('g') }, metrics: { enabled: false } })]);
  t.is((await noBucket.exited).code, 1);
  t.regex(noBucket.stderr(), /^kafkalake: .*(NoSuchBucket|does not exist).*$/m);
  t.regex(noBucket.stderr(), /kl-no-such-bucket/);
  t.notRegex(noBucket.stderr(), /^\s+at /m);

  const noTopic = runCli(['consume', '--once', '--config', stack.configFile({ kafka: { topic: unique('missing') }, aws: { bucket: await stack.bucket() }, metrics: { enabled: false } })]);
  t.is((await noTopic.exited).code, 1);
  t.regex(noTopic.stderr(), /^kafkalake: topic missing-\w+ is not usable \(it does not exist\); consume --once does not wait for it/m);
});
