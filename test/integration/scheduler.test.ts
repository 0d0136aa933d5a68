// The scheduler against the real stack: its job history lives in the twin's S3 and survives a restart
// (and a missed schedule is caught up once from it); the daemon (`kafkalake scheduler`, a child
// process) runs the real ETL on a seconds cron, records the runs, publishes its heartbeat, the
// consumer group lag and the cluster's health measured from Kafka, and stops cleanly on SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { createKafka } from '../../daemons/lib/kafka.js';
import { createLogger } from '../../daemons/lib/log.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { HISTORY_KEY, type History, s3History } from '../../daemons/scheduler/history.js';
import { createScheduler } from '../../daemons/scheduler/scheduler.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';

let stack: TestStack;
const log = createLogger({ daemon: 'scheduler-it', level: 'error', stream: process.stderr });
const CLI = `${PROJECT_ROOT}/dist/daemons/cli/main.js`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.before(async () => {
  stack = await startTestStack();
});
test.after.always(async () => {
  await stack?.stop();
});

async function readHistory(bucket: string): Promise<History> {
  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  try {
    const r = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: HISTORY_KEY }));
    return JSON.parse((await r.Body?.transformToString()) ?? '') as History;
  } finally {
    aws.destroy();
  }
}

test.serial('the job history is kept in S3: a restarted scheduler has it, and catches up a missed schedule once', async (t) => {
  const bucket = await stack.bucket();
  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  let runs = 0;
  const job = { name: 'hourly', kind: 'etl', cron: '0 0 * * * *', timeoutMs: 5000, run: () => Promise.resolve({ changed: false, summary: `run ${++runs}` }) };
  const make = (now?: () => Date) =>
    createScheduler({ jobs: [job], history: s3History(aws.s3, bucket, log), log, retry: { retries: 1, minTimeoutMs: 10, maxTimeoutMs: 10 }, keepRuns: 3, ...(now ? { now } : {}) });
  const a = make();
  await a.start();
  for (let i = 0; i < 4; i++) await a.trigger('hourly');
  await a.close();
  const stored = await readHistory(bucket);
  t.is(stored.version, 1);
  t.deepEqual(
    stored.jobs.hourly?.runs.map((r) => r.summary),
    ['run 4', 'run 3', 'run 2'],
    'newest first, keepRuns of them',
  );
  t.like(stored.jobs.hourly?.runs[0], { job: 'hourly', reason: 'manual', outcome: 'succeeded', attempts: 1 });

  // restart "three hours later": the history is there, and the missed fires make one catch-up run
  const later = Date.now() + 3 * 3600_000;
  const b = make(() => new Date(later));
  await b.start();
  await b.idle();
  await b.close();
  t.is(runs, 5);
  const after = await readHistory(bucket);
  t.deepEqual(
    after.jobs.hourly?.runs.map((r) => `${r.summary} ${r.reason}`),
    ['run 5 catch-up', 'run 4 manual', 'run 3 manual'],
  );
  aws.destroy();
});

test.serial('a damaged history file does not stop the scheduler: it starts a fresh one and says so', async (t) => {
  const bucket = await stack.bucket();
  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: HISTORY_KEY, Body: '{"not": "a history"' }));
  const lines: string[] = [];
  const { Writable } = await import('node:stream');
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const h = await s3History(aws.s3, bucket, createLogger({ daemon: 't', level: 'error', stream: sink })).load();
  t.deepEqual(h.jobs, {});
  t.true(lines.some((l) => l.includes('job history unreadable') && l.includes(`s3://${bucket}/${HISTORY_KEY}`)));
  aws.destroy();
});

function startDaemon(file: string): { child: ChildProcess; out: string[]; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, 'scheduler', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  const out: string[] = [];
  child.stdout?.on('data', (d: Buffer) => out.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => out.push(d.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out, exit };
}

test.serial('the daemon runs the real ETL on its cron, records each run, publishes heartbeat, group lag and cluster health, survives a restart', async (t) => {
  const bucket = await stack.bucket();
  const topic = unique('sched');
  const groupId = unique('sched-group');
  const namespace = unique('KafkaLakeSched');
  // a topic with 25 records and a group that committed 10 of them on partition 0: lag 15
  const kafka = createKafka({ kafka: stack.config({ kafka: { topic } }).kafka, log });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: 25 }, (_, i) => ({ value: JSON.stringify({ i }) })) });
  await producer.disconnect();
  await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '10' }] });
  await admin.disconnect();

  const file = stack.configFile({
    aws: { bucket },
    kafka: { topic },
    consumer: { groupId },
    etl: { cron: '*/2 * * * * *' },
    metrics: { namespace, flushIntervalMs: 1000 },
    scheduler: { lagIntervalMs: 1000, alarmIntervalMs: 60_000 },
  });
  const d1 = startDaemon(file);
  let h: History | undefined;
  for (let i = 0; i < 60 && (h?.jobs.etl?.runs.length ?? 0) < 2; i++) {
    await sleep(1000);
    h = await readHistory(bucket).catch(() => undefined);
  }
  d1.child.kill('SIGTERM');
  t.is(await d1.exit, 0, d1.out.join(''));
  const runs1 = h?.jobs.etl?.runs ?? [];
  t.true(runs1.length >= 2, d1.out.join(''));
  t.like(runs1[0], { job: 'etl', reason: 'schedule', outcome: 'succeeded' });
  t.regex(runs1[0]?.summary ?? '', /etl: done in/);

  const cwAws = createAwsClients(stack.config());
  const cw = cwAws.cloudwatch;
  const q = (id: string, name: string, dims: Record<string, string>, stat: string) => ({
    Id: id,
    MetricStat: { Metric: { Namespace: namespace, MetricName: name, Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })) }, Period: 600, Stat: stat },
  });
  const m = await cw.send(
    new GetMetricDataCommand({
      StartTime: new Date(Date.now() - 600_000),
      EndTime: new Date(Date.now() + 60_000),
      MetricDataQueries: [
        q('hb', 'Heartbeat', { Daemon: 'scheduler' }, 'SampleCount'),
        q('lag', 'ConsumerGroupLag', { Daemon: 'scheduler', Topic: topic }, 'Maximum'),
        q('lag0', 'ConsumerGroupLag', { Daemon: 'scheduler', Topic: topic, Partition: '0' }, 'Minimum'),
        q('ok', 'JobSuccess', { Daemon: 'scheduler', Job: 'etl' }, 'Sum'),
        q('dur', 'JobDuration', { Daemon: 'scheduler', Job: 'etl' }, 'SampleCount'),
        // the cluster, measured each lag interval: the single broker of kafka.brokers, alive
        q('alive', 'BrokersAlive', { Daemon: 'scheduler' }, 'Minimum'),
        q('missing', 'BrokersMissing', { Daemon: 'scheduler' }, 'Maximum'),
        q('urp', 'UnderReplicatedPartitions', { Daemon: 'scheduler', Topic: topic }, 'Maximum'),
        q('offline', 'OfflinePartitions', { Daemon: 'scheduler' }, 'Maximum'),
      ],
    }),
  );
  const vals = (id: string) => m.MetricDataResults?.find((x) => x.Id === id)?.Values ?? [];
  const v = (id: string) => vals(id).reduce((a, b) => a + b, 0);
  t.true(v('hb') >= 1);
  t.is(Math.max(...vals('lag')), 15);
  t.is(Math.min(...vals('lag0')), 15);
  t.true(v('ok') >= runs1.length - 1, `JobSuccess ${v('ok')} for ${runs1.length} runs`);
  t.true(v('dur') >= 1);
  t.deepEqual(
    ['alive', 'missing', 'urp', 'offline'].map((id) => [id, [...new Set(vals(id))]]), // one value in every period
    [
      ['alive', [1]],
      ['missing', [0]],
      ['urp', [0]],
      ['offline', [0]],
    ],
  );

  // restart: the runs of the first life are still there, new ones are added in front. The first life may
  // have recorded one more run as it stopped (a run in flight ends 'stopped'): read its history once it is gone.
  const life1 = (await readHistory(bucket)).jobs.etl?.runs ?? [];
  const restartedAt = Date.now();
  const d2 = startDaemon(file);
  let h2: History | undefined;
  for (let i = 0; i < 30; i++) {
    await sleep(1000);
    h2 = await readHistory(bucket);
    if ((h2.jobs.etl?.runs ?? []).some((r) => Date.parse(r.start) >= restartedAt)) break;
  }
  d2.child.kill('SIGTERM');
  t.is(await d2.exit, 0, d2.out.join(''));
  const runs2 = h2?.jobs.etl?.runs ?? [];
  t.true(runs2.length > life1.length);
  t.true(runs2.some((r) => Date.parse(r.start) >= restartedAt), 'the second life ran the ETL');
  t.deepEqual(
    runs2.slice(runs2.length - life1.length).map((r) => r.start),
    life1.map((r) => r.start),
  );
  cwAws.destroy();
});

test.serial('a permanent failure of the real job (its spec directory is missing) is recorded once, not retried', async (t) => {
  const bucket = await stack.bucket();
  const file = stack.configFile({ aws: { bucket }, etl: { cron: '*/2 * * * * *', specDir: '/nonexistent/specs' }, metrics: { enabled: false }, scheduler: { lagIntervalMs: 0, retryMinMs: 100 } });
  const d = startDaemon(file);
  let h: History | undefined;
  for (let i = 0; i < 30 && !h?.jobs.etl?.runs.length; i++) {
    await sleep(1000);
    h = await readHistory(bucket).catch(() => undefined);
  }
  d.child.kill('SIGTERM');
  t.is(await d.exit, 0, d.out.join(''));
  const r = h?.jobs.etl?.runs.at(-1);
  t.like(r, { outcome: 'failed', attempts: 1, retriable: false });
  t.regex(r?.error ?? '', /nonexistent\/specs/);
});
