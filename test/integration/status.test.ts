// `kafkalake status` against the real stack: every section filled from its source (CloudWatch in the
// twin, Kafka's admin API for the cluster and the lag, the bucket's staging/ and _state/), healthy when every stage is; a daemon without a
// heartbeat shows down, its alarm goes to ALARM (kafkalake evaluates the alarms in local mode) and the
// exit status says so. --json gives the same report to scripts.
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import type { StatusReport } from '../../daemons/cli/status-report.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';
import { heartbeats, world, worldOverrides } from './status-helpers.js';

let stack: TestStack;
const CLI = `${PROJECT_ROOT}/dist/daemons/cli/main.js`;
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_NO_WARNINGS: '1' } });

test.before(async () => {
  stack = await startTestStack();
});
test.after.always(async () => {
  await stack?.stop();
});

// first: the twin's GetMetricData ignores the namespace when dimensions are given, so no consumer
// heartbeat may have been sent in this twin yet
test.serial('a daemon without a heartbeat shows down, its alarm fires on the twin, and status exits 3', async (t) => {
  const { bucket, topic, groupId } = await world(stack);
  const namespace = unique('KLStatusDown');
  const prefix = `${unique('st')}-`;
  const file = stack.configFile({ aws: { bucket }, kafka: { topic }, consumer: { groupId }, metrics: { namespace, flushIntervalMs: 2000 }, monitoring: { periodSeconds: 10, alarmPrefix: prefix } });
  t.is(cli(['bootstrap', '--config', file]).status, 0);
  await heartbeats(stack, namespace, ['scheduler'], topic); // the consumer is dead: no heartbeat
  // a new alarm judges missing data only in periods that began after it existed: wait one 10 s period
  await new Promise((r) => setTimeout(r, 11_000));
  const j = cli(['status', '--config', file, '--json']);
  t.is(j.status, 3);
  const r = JSON.parse(j.stdout) as StatusReport;
  t.false(r.healthy);
  t.true(r.daemons.ok && r.daemons.value.find((d) => d.daemon === 'consumer')?.state === 'down', JSON.stringify(r.daemons));
  t.true(r.problems.includes('consumer is down (no heartbeat)'), r.problems.join('; '));
  t.true(r.alarms.ok && r.alarms.value.inAlarm.some((a) => a.name === `${prefix}consumer-down`), JSON.stringify(r.alarms));
  const text = cli(['status', '--config', file]);
  t.is(text.status, 3);
  t.log(text.stdout);
  t.regex(text.stdout, new RegExp(`^(ALARMS)?\\s+ALARM ${prefix}consumer-down since`, 'm'));
  t.regex(text.stdout, /^UNHEALTHY .*consumer is down/m);
});

test.serial('status shows every stage from its source; healthy when every stage is (exit 0)', async (t) => {
  const w = await world(stack);
  const { topic } = w;
  const namespace = unique('KLStatus');
  const file = stack.configFile(worldOverrides(w, namespace));
  t.is(cli(['bootstrap', '--config', file]).status, 0);
  await heartbeats(stack, namespace, ['consumer', 'scheduler'], topic);

  const j = cli(['status', '--config', file, '--json']);
  const r = JSON.parse(j.stdout) as StatusReport;
  t.deepEqual(r.problems, []);
  t.is(j.status, 0, j.stderr);
  t.true(r.healthy, JSON.stringify(r));
  t.true(r.daemons.ok);
  if (r.daemons.ok) {
    t.deepEqual(
      r.daemons.value.map((d) => `${d.daemon} ${d.state}`),
      ['producer no metrics', 'consumer up', 'scheduler up'],
    );
    t.true((r.daemons.value[1]?.memoryRssMb ?? 0) > 10);
  }
  t.like(r.lag, { ok: true, value: { total: 4, partitions: [{ partition: 0, end: 6, committed: 6, lag: 0 }, { partition: 1, end: 6, committed: 2, lag: 4 }] } });
  t.true(r.rates.ok && r.rates.value.recordsInPerS === 600 / 50, JSON.stringify(r.rates));
  t.true(r.freshness.ok && r.freshness.value.newestStaged?.startsWith(`staging/${topic}/dt=`) === true, JSON.stringify(r.freshness));
  t.true(r.freshness.ok && (r.freshness.value.stagedAgeS ?? 99) < 60, JSON.stringify(r.freshness));
  t.like(r.dlq, { ok: true, value: { objects: 1, truncated: false } });
  const etl = r.jobs.ok ? r.jobs.value.find((x) => x.name === 'etl') : undefined;
  t.like(etl, { schedule: '*/15 * * * * *', last: { outcome: 'succeeded', durationMs: 1200 } });
  t.true(etl?.next !== null && Date.parse(etl?.next ?? '') > Date.now());
  t.like(r.alarms, { ok: true, value: { evaluatedHere: true, defined: 12, inAlarm: [] } });
  // the single-broker stack, kafka.expectedBrokers 0: every broker of kafka.brokers (one)
  t.like(r.cluster, { ok: true, value: { expected: 1, underReplicated: [], offline: [], topic: { name: topic, partitions: 2, underReplicated: 0, offline: 0 } } });
  t.true(r.cluster.ok && r.cluster.value.brokers?.length === 1 && r.cluster.value.controller === r.cluster.value.brokers[0], JSON.stringify(r.cluster));

  const text = cli(['status', '--config', file]);
  t.is(text.status, 0);
  t.log(text.stdout);
  for (const label of ['DAEMONS', 'CLUSTER', 'RATES', 'LAG', 'FRESHNESS', 'JOBS', 'DLQ', 'ALARMS', 'HEALTHY']) t.regex(text.stdout, new RegExp(`^${label} `, 'm'));
  t.regex(text.stdout, /consumer\s+up\s+heartbeat \d+ s ago/);
  t.regex(text.stdout, /^LAG\s+4 records behind\n\s+p0 0 {2}p1 4$/m);
  t.regex(text.stdout, /^CLUSTER {4}1\/1 brokers up, controller \d+; 0 under-replicated, 0 offline partitions$/m);
  t.true(text.stdout.split('\n').length < 30, 'one screen');
});

test.serial('status with Kafka unreachable still answers, within bounded time, naming what is unavailable', async (t) => {
  const bucket = await stack.bucket();
  const file = stack.configFile({ aws: { bucket }, kafka: { brokers: ['127.0.0.1:1'], connectionTimeoutMs: 500 } });
  const t0 = Date.now();
  const r = cli(['status', '--config', file]);
  t.true(Date.now() - t0 < 60_000);
  t.is(r.status, 3);
  t.regex(r.stdout, /^LAG\s+unavailable: .*127\.0\.0\.1:1/m);
  t.regex(r.stdout, /^CLUSTER\s+unavailable: measuring the cluster failed: .*127\.0\.0\.1:1/m);
});

test.serial('status for a topic that does not exist yet answers and exits (it hung after its report)', async (t) => {
  const bucket = await stack.bucket();
  const file = stack.configFile({ aws: { bucket }, kafka: { topic: `absent-${bucket}` } });
  const t0 = Date.now();
  const r = cli(['status', '--config', file]);
  t.not(r.error?.message ?? '', 'spawnSync ETIMEDOUT', 'status exited by itself');
  t.true(Date.now() - t0 < 60_000, `${Date.now() - t0} ms`);
  t.is(r.status, 3, r.stderr);
  t.regex(r.stdout, /^LAG\s+unavailable: topic absent-\S+ does not exist on the brokers \(yet: the producer creates it at its first start\)$/m);
});
