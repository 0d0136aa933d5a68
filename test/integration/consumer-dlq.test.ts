// Bad records on the real local Kafka and the AWS twin: each kind lands in staging/_dlq/ with its reason
// and raw bytes, the good records around them are staged, and `kafkalake dlq list|show|replay` work.
// Replay checks each dead letter with the current config first: one still bad is not re-sent (so it is
// not dead-lettered again), only dead letters are sent (never staged good data), and an object already
// replayed is skipped by a second replay.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { Message } from 'kafkajs';
import { lakeManifestRows } from '../helpers/ledger.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';
import { createTopic, endOffsets, missingOffsets, produce, readStaging, runCli } from './consumer-helpers.js';

let stack: TestStack;

test.before(async () => {
  stack = await startTestStack();
});
test.after.always(async () => {
  await stack?.stop();
});

const good = (n: number): Message => ({ key: 'NYA', value: JSON.stringify({ index: 'NYA', n, close: n + 0.5 }) });
const oversized = JSON.stringify({ index: 'NYA', note: 'x'.repeat(3000) });

const BAD: Array<[reason: string, message: Message]> = [
  ['not-utf8', { key: 'NYA', value: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }],
  ['not-json', { key: 'NYA', value: '{"index":"NYA","close":12' }],
  ['not-object', { key: 'NYA', value: '[1,2,3]' }],
  ['not-object', { key: 'NYA', value: '42' }],
  ['too-large', { key: 'NYA', value: oversized }],
  ['tombstone', { key: 'NYA', value: null }],
];

test('bad records go to the DLQ with their reason; good ones around them are staged; dlq list/show/replay', async (t) => {
  t.timeout(4 * 60_000);
  const topic = unique('dlq');
  const bucket = await stack.bucket();
  await createTopic(stack.brokers, topic, 1);
  // good, bad, good, bad, ... good
  const messages: Message[] = [good(0)];
  BAD.forEach(([, m], i) => messages.push(m, good(i + 1)));
  t.is(await produce(stack.brokers, topic, messages), 13);

  const base = { kafka: { topic }, aws: { bucket }, consumer: { maxRecordBytes: 1000 }, metrics: { enabled: false } };
  const cfg = stack.configFile({ ...base, consumer: { ...base.consumer, groupId: unique('g') } });
  const first = runCli(['consume', '--once', '--config', cfg]);
  t.is((await first.exited).code, 0, first.stderr());
  t.regex(first.stdout(), /staged 7 records, 6 to the DLQ/);

  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  const s = await readStaging(aws.s3, bucket, topic);
  t.deepEqual(s.duplicates, []);
  t.deepEqual(missingOffsets(s, await endOffsets(stack.brokers, topic)), []);
  for (let i = 0; i <= 6; i++) t.like(s.rows.get(`0:${2 * i}`), { n: i, _offset: 2 * i, _key: 'NYA', _topic: topic });
  BAD.forEach(([reason, m], i) => {
    const d = s.dead.get(`0:${2 * i + 1}`);
    t.is(d?.reason, reason, `offset ${2 * i + 1}`);
    const raw = m.value === null ? null : Buffer.from(m.value).toString('base64');
    t.is(d?.raw_base64, raw, `raw bytes of offset ${2 * i + 1}`);
    t.is(d?._key, 'NYA');
  });

  // list: one object with all six, reasons counted
  const list = runCli(['dlq', 'list', '--config', cfg]);
  t.is((await list.exited).code, 0, list.stderr());
  t.regex(list.stdout(), /\+0\+00000000000000000000\+00000000000000000012\.jsonl\.gz {2}6 record\(s\) {2}not-utf8=1,not-json=1,not-object=2,too-large=1,tombstone=1/);
  t.regex(list.stdout(), /1 DLQ object\(s\), 6 dead letter\(s\)/);
  const key = /^consumer +(\S+\.jsonl\.gz)/m.exec(list.stdout())?.[1] ?? '';
  t.true(key.startsWith(`staging/_dlq/${topic}/dt=`));

  const show = runCli(['dlq', 'show', key, '--config', cfg]);
  t.is((await show.exited).code, 0, show.stderr());
  t.regex(show.stdout(), new RegExp(`${topic}\\+0\\+3 .* not-json: .*value: \\{"index":"NYA","close":12`));
  t.regex(show.stdout(), /\+0\+11 .* tombstone: null value \(a tombstone\) {2}value: \(null value\)/);
  t.is(show.stdout().trim().split('\n').length, 6);

  const badShow = runCli(['dlq', 'show', 'staging/nope.jsonl.gz', '--config', cfg]);
  t.is((await badShow.exited).code, 1);
  t.regex(badShow.stderr(), /^kafkalake: not a DLQ object name: staging\/nope\.jsonl\.gz/);

  // the operator raises the size limit and replays: the oversized record goes back, the others stay
  const fixed = stack.configFile({ ...base, consumer: { maxRecordBytes: 1_000_000, groupId: unique('g') } });
  const replay = runCli(['dlq', 'replay', '--all', '--config', fixed]);
  t.is((await replay.exited).code, 0, replay.stderr());
  t.regex(replay.stdout(), /sent 1 to .*not sent, still bad under the current config: 1:not-utf8 3:not-json 5:not-object 7:not-object 11:tombstone/);
  t.regex(replay.stdout(), /replayed 1 dead letter\(s\); 5 still bad/);
  const again = runCli(['dlq', 'replay', '--all', '--config', fixed]);
  t.is((await again.exited).code, 0, again.stderr());
  t.regex(again.stdout(), /already replayed/);
  t.regex(again.stdout(), /replayed 0 dead letter\(s\)/);

  // staged once more with the fixed config: only the replayed record is new; nothing already staged doubles
  const second = runCli(['consume', '--once', '--config', fixed]);
  t.is((await second.exited).code, 0, second.stderr());
  const after = await readStaging(aws.s3, bucket, topic);
  t.deepEqual(after.duplicates, []);
  t.is(after.rows.size, 8);
  t.is(after.dead.size, 6);
  t.like(after.rows.get('0:13'), { index: 'NYA', note: 'x'.repeat(3000), _offset: 13 });
  const listed = runCli(['dlq', 'list', '--json', '--config', cfg]);
  await listed.exited;
  t.like((JSON.parse(listed.stdout()) as Array<{ replayed: boolean }>)[0], { replayed: true });
  aws.destroy();
});

test('the ETL\'s dead letters too: listed with their stage, shown with the value as sent, replayed after a spec change into the lake once', async (t) => {
  t.timeout(5 * 60_000);
  const topic = 'stock_market_data'; // the table spec's source topic; this test's bucket is its own
  const bucket = await stack.bucket();
  await createTopic(stack.brokers, topic, 1);
  const row = (date: string, extra: Record<string, unknown> = {}) => ({ index: 'NYA', date, open: 1, high: 2, low: 0.5, close: 1.5, adj_close: 1.5, volume: 10, close_usd: 1.5, ...extra });
  const noAdj = row('2021-03-02');
  delete (noAdj as Record<string, unknown>).adj_close;
  const sent = [row('2021-03-01'), noAdj, row('2021-03-03', { open: 'abc' })];
  t.is(await produce(stack.brokers, topic, sent.map((v) => ({ key: 'NYA', value: JSON.stringify(v) }))), 3);
  const base = { kafka: { topic }, aws: { bucket }, metrics: { enabled: false }, consumer: { groupId: unique('g') } };
  const cfg = stack.configFile(base);
  const consume = async (file: string) => {
    const c = runCli(['consume', '--once', '--config', file]);
    t.is((await c.exited).code, 0, c.stderr());
  };
  const etl = async (file: string) => {
    const e = runCli(['run', 'etl', '--config', file]);
    t.is((await e.exited).code, 0, e.stderr());
    return e.stdout();
  };
  await consume(cfg);
  t.regex(await etl(cfg), /3 rows read, 2 rejected/);

  const list = runCli(['dlq', 'list', '--config', cfg]);
  t.is((await list.exited).code, 0, list.stderr());
  t.regex(list.stdout(), /^etl +staging\/_dlq\/stock_market_data\/dt=\S+\+0\+00000000000000000000\+00000000000000000002\.etl\.jsonl\.gz {2}2 record\(s\) /m);
  t.regex(list.stdout(), /1 DLQ object\(s\), 2 dead letter\(s\) \(consumer 0, etl 2\)/);
  const onlyConsumer = runCli(['dlq', 'list', '--stage', 'consumer', '--config', cfg]);
  await onlyConsumer.exited;
  t.regex(onlyConsumer.stdout(), /^0 DLQ object\(s\)/m);
  const key = /^etl +(\S+)/m.exec(list.stdout())?.[1] ?? '';
  const show = runCli(['dlq', 'show', key, '--config', cfg]);
  t.is((await show.exited).code, 0, show.stderr());
  t.regex(show.stdout(), /^etl {2}stock_market_data\+0\+1 .* key=NYA {2}.*adj_close.*value: \{"index":"NYA","date":"2021-03-02"/m);
  t.regex(show.stdout(), /^etl {2}stock_market_data\+0\+2 .*"open".*value: .*"open":"abc"/m);

  // the operator decides adj_close may be missing (nullable), then replays the ETL's dead letters
  const specDir = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-spec-'));
  t.teardown(() => rmSync(specDir, { recursive: true, force: true }));
  const spec = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'glue/tables/stock_market_data.json'), 'utf8')) as { columns: Array<{ name: string; nullable?: boolean }> };
  for (const c of spec.columns) if (c.name === 'adj_close') c.nullable = true;
  writeFileSync(path.join(specDir, 'stock_market_data.json'), JSON.stringify(spec));
  const fixed = stack.configFile({ ...base, etl: { specDir } });
  const replay = runCli(['dlq', 'replay', '--all', '--stage', 'etl', '--config', fixed]);
  t.is((await replay.exited).code, 0, replay.stderr());
  t.regex(replay.stdout(), /replayed 2 dead letter\(s\); 0 still bad/);
  await consume(fixed);
  t.regex(await etl(fixed), /2 rows read, 1 rejected/);
  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  t.is(await lakeManifestRows(aws.s3, bucket), 2, 'the good row and the fixed one, each once');
  // a second replay skips what was replayed: the fixed row is not sent again
  const again = runCli(['dlq', 'replay', '--all', '--stage', 'etl', '--config', fixed]);
  t.is((await again.exited).code, 0, again.stderr());
  t.regex(again.stdout(), /already replayed/);
  aws.destroy();
});
