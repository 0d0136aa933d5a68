// The whole pipeline, locally, on the real dataset (104,224 rows of indexProcessed.csv, replayed in a
// loop): the real stack, then `kafkalake bootstrap`, and the three daemons as child processes exactly
// as `kafkalake up` and systemd run them (`kafkalake producer|consumer|scheduler --config F`). We wait
// until every saved report has landed in reports/ and `kafkalake status` says every stage is healthy;
// then the consumer is SIGKILLed and status must show it down and the lag alarm firing on the twin
// (the twin evaluates no alarms: the scheduler and status evaluate them and set the state).
// Nothing is dead-lettered: bootstrap creates the staging and DLQ tables, so data_quality runs on an empty DLQ.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { createKafka } from '../../daemons/lib/kafka.js';
import { createLogger } from '../../daemons/lib/log.js';
import { PROJECT_ROOT, resolveFromRoot } from '../../daemons/lib/paths.js';
import type { StatusReport } from '../../daemons/cli/status-report.js';
import { listReportFiles } from '../../daemons/scheduler/report-files.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';

const CLI = `${PROJECT_ROOT}/dist/daemons/cli/main.js`;
const env = { ...process.env, NODE_NO_WARNINGS: '1' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let stack: TestStack;
const children: ChildProcess[] = [];
// the daemons' logs, kept when the test fails
const logs = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-e2e-logs-'));

test.before(async () => {
  stack = await startTestStack();
});
test.after.always(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await stack?.stop();
});

function daemon(name: string, file: string): ChildProcess {
  const child = spawn(process.execPath, [CLI, name, '--config', file], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const out = createWriteStream(path.join(logs, `${name}.log`));
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  children.push(child);
  return child;
}

function status(file: string): { code: number | null; report: StatusReport | undefined; text: string } {
  const r = spawnSync(process.execPath, [CLI, 'status', '--config', file, '--json'], { encoding: 'utf8', env, timeout: 120_000 });
  let report: StatusReport | undefined;
  try {
    report = JSON.parse(r.stdout) as StatusReport;
  } catch {
    report = undefined;
  }
  return { code: r.status, report, text: r.stdout + r.stderr };
}

test('real dataset end to end: reports appear and every stage is healthy; a killed consumer shows down and the lag alarm fires', async (t) => {
  const bucket = unique('kl-e2e').toLowerCase();
  const file = stack.configFile({
    aws: { bucket },
    log: { level: 'info' },
    kafka: { partitions: 3 }, // the default topic, stock_market_data: the table spec and the reports name it
    consumer: { groupId: unique('e2e-group') },
    producer: { rate: 1000, loop: true },
    etl: { cron: '*/10 * * * * *', memoryMb: 512, threads: 1 },
    reports: { cron: '*/30 * * * * *', memoryMb: 512, threads: 1 },
    metrics: { flushIntervalMs: 2000 },
    monitoring: { periodSeconds: 10, lagThreshold: 20000, alarmPrefix: `${unique('e2e')}-` },
    scheduler: { lagIntervalMs: 2000, alarmIntervalMs: 5000, retryMinMs: 500 },
  });
  const boot = spawnSync(process.execPath, [CLI, 'bootstrap', '--config', file], { encoding: 'utf8', env });
  t.is(boot.status, 0, boot.stderr);

  // the topic exists before the three daemons start at once (the broker creates no topic by itself)
  const admin = createKafka({ kafka: stack.config().kafka, log: createLogger({ daemon: 'e2e', level: 'error', stream: process.stderr }) }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'stock_market_data', numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();

  daemon('producer', file);
  const consumer = daemon('consumer', file);
  daemon('scheduler', file);

  const reports = listReportFiles(resolveFromRoot('sql/reports')).map((r) => r.name);
  t.true(reports.length >= 1);
  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  const landed = async () => {
    const r = await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'reports/' }));
    return new Set((r.Contents ?? []).map((o) => o.Key?.split('/')[1] ?? ''));
  };
  let healthy: ReturnType<typeof status> | undefined;
  let last: ReturnType<typeof status> | undefined;
  // the whole dataset (104,224 rows) is staged and committed at `fullAt`; then the ETL and every report
  // have run since, all succeeded, and every stage is healthy (the crawl ran after the ETL run that created
  // the partitions; appends to them need none)
  let fullAt: number | undefined;
  const DATASET = 104_224;
  const deadline = Date.now() + 6 * 60_000;
  while (Date.now() < deadline) {
    await sleep(10_000);
    const have = await landed();
    if (!reports.every((r) => have.has(r))) continue;
    last = status(file);
    const r = last.report;
    if (!r?.lag.ok || !r.jobs.ok) continue;
    const committed = r.lag.value.partitions.reduce((a, p) => a + (p.committed ?? 0), 0);
    if (fullAt === undefined && committed >= DATASET) fullAt = Date.parse(r.at);
    if (fullAt === undefined) continue;
    const at = (name: string) => (r.jobs.ok ? Date.parse(r.jobs.value.find((j) => j.name === name)?.last?.start ?? '') || 0 : 0);
    const after = ['etl', ...reports.map((n) => `report-${n}`)].every((n) => at(n) > (fullAt ?? Infinity));
    const jobsOk = r.jobs.value.every((j) => j.last?.outcome === 'succeeded');
    if (after && jobsOk && last.code === 0 && r.healthy) {
      healthy = last;
      break;
    }
  }
  t.truthy(healthy, `not healthy in time; reports landed: ${[...(await landed())].join(', ')}; last status: ${last?.text ?? 'none'}; logs in ${logs}`);
  if (!healthy?.report) return;
  const h = healthy.report;
  t.log(spawnSync(process.execPath, [CLI, 'status', '--config', file], { encoding: 'utf8', env }).stdout);
  t.true(h.daemons.ok && h.daemons.value.filter((d) => d.daemon !== 'producer').every((d) => d.state === 'up'));
  t.true(h.rates.ok && h.rates.value.recordsStagedPerS > 0);
  t.true(h.freshness.ok && h.freshness.value.lakeUpdated !== null);
  t.true(h.jobs.ok && ['etl', 'crawl', ...reports.map((r) => `report-${r}`)].every((n) => h.jobs.ok && h.jobs.value.some((j) => j.name === n && j.last?.outcome === 'succeeded')));
  // the lake holds the dataset once: the replays after the first pass are deduplicated on the business key
  const q = spawnSync(process.execPath, [CLI, 'query', 'SELECT count(*) AS n FROM stock_market_data', '--format', 'csv', '--config', file], { encoding: 'utf8', env, timeout: 120_000 });
  t.is(q.status, 0, q.stderr);
  t.is(Number(q.stdout.trim().split('\n').pop()?.replace(/"/g, '')), DATASET, q.stdout);

  // the consumer dies: no more heartbeats, the group falls behind the producer
  consumer.kill('SIGKILL');
  let down: ReturnType<typeof status> | undefined;
  const deadline2 = Date.now() + 2 * 60_000;
  while (Date.now() < deadline2) {
    await sleep(5000);
    const s = status(file);
    const consumerDown = s.report?.daemons.ok && s.report.daemons.value.find((d) => d.daemon === 'consumer')?.state === 'down';
    const lagAlarm = s.report?.alarms.ok && s.report.alarms.value.inAlarm.some((a) => a.name.endsWith('consumer-lag-high'));
    if (consumerDown && lagAlarm) {
      down = s;
      break;
    }
    last = s;
  }
  t.truthy(down, `consumer not shown down with the lag alarm firing; last status: ${last?.text ?? 'none'}`);
  t.is(down?.code, 3);
  t.true(down?.report?.problems.some((p) => p.startsWith('consumer is down')));
  t.true(down?.report?.lag.ok && down.report.lag.value.total > 20000);
  t.log(spawnSync(process.execPath, [CLI, 'status', '--config', file], { encoding: 'utf8', env }).stdout);
  aws.destroy();
  if (down) rmSync(logs, { recursive: true, force: true });
});
