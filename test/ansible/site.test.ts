// slow: the real `ansible-playbook site.yml` against a real systemd host (Debian bookworm by debootstrap,
// booted with systemd-nspawn, reached over ssh on a loopback port), offline: Kafka/ZooKeeper from an
// archive assembled from the Maven jars, Node.js from an archive, the daemons from a frozen build, the
// AWS twin as the AWS endpoint. Converge, idempotence (second run changed=0), verify (units active,
// enabled, hardened, `systemd-analyze verify` clean), the pipeline (records reach staging, JSON in the
// journal, a SIGKILLed daemon comes back, rolling restart one at a time after a config change, graceful
// stop, every Kafka record staged exactly once).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import test from 'ava';
import { DAEMON_NICE } from '../../daemons/cli/up.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { missingPrerequisites, type PlaybookRun, TestHost } from './host.js';
import { endOffsets, missing, readStaged, s3Client } from './pipeline.js';

const host = new TestHost();
const BUCKET = `kl-ansible-${randomUUID().slice(0, 8)}`;
const TOPIC = 'stock_market_data';
const SHUTDOWN_MS = 15_000;
const TIMEOUT_STOP_SEC = SHUTDOWN_MS / 1000 + 10; // the role's grace default
const HEALTH_SECONDS = 6;
// The daemons this build has (the scheduler arrives later): the role deploys every unit, starts these.
const DAEMONS = ['producer', 'consumer', 'scheduler'].filter((d) =>
  new RegExp(`^\\s+${d}\\s`, 'm').test(execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'dist/daemons/cli/main.js'), '--help']).toString()),
);
const secrets = { key: `AKIA${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`, secret: randomUUID() };

function hostVars(config: Record<string, unknown>): Record<string, unknown> {
  return {
    kafkalake_daemons: DAEMONS,
    kafkalake_bucket: BUCKET,
    kafkalake_topic_partitions: 3,
    kafkalake_shutdown_timeout_ms: SHUTDOWN_MS,
    kafkalake_health_seconds: HEALTH_SECONDS,
    kafkalake_aws_access_key_id: secrets.key,
    kafkalake_aws_secret_access_key: secrets.secret,
    kafkalake_config: config,
  };
}
const baseConfig = { producer: { rate: 100, statsIntervalMs: 10_000 }, consumer: { flush: { intervalMs: 1000 } }, metrics: { flushIntervalMs: 10_000 } };

function inventory(config: Record<string, unknown> = baseConfig): string {
  return host.inventory(hostVars(config), { aws_resources_bucket: BUCKET });
}

function summary(r: PlaybookRun): string {
  const lines = r.output.split('\n');
  const notable = Object.keys(r.recap).length > 0 ? lines.filter((l) => /fatal|FAILED|changed:|ERROR/.test(l)).slice(-25) : lines.slice(0, 25);
  return `exit ${r.code}, recap ${JSON.stringify(r.recap)}\n${notable.join('\n')}`;
}

async function activeSince(unit: string): Promise<number> {
  return Number((await host.show(unit, ['ActiveEnterTimestampMonotonic'])).ActiveEnterTimestampMonotonic);
}

test.before(async () => {
  const missingTools = await missingPrerequisites();
  if (missingTools.length > 0) throw new Error(`the ansible test needs: ${missingTools.join(', ')} (npm test installs test/apt-packages.txt as root)`);
  await host.start();
});

test.after.always(async () => {
  await host.stop();
});

test.serial('slow: converge — site.yml provisions the host and the AWS resources from scratch', async (t) => {
  t.timeout(10 * 60_000);
  t.true(DAEMONS.includes('producer') && DAEMONS.includes('consumer'), `daemons in this build: ${DAEMONS.join(', ')}`);
  const r = await host.playbook(inventory());
  t.is(r.code, 0, summary(r));
  t.is(r.recap.testhost?.failed, 0, summary(r));
  t.is(r.recap.localhost?.failed, 0, summary(r));
  t.true((r.recap.testhost?.changed ?? 0) > 10, summary(r));
  t.true((r.recap.localhost?.changed ?? 0) > 5, summary(r));
});

test.serial('slow: idempotence — a second run changes nothing, on the host or in AWS', async (t) => {
  t.timeout(8 * 60_000);
  const r = await host.playbook(inventory());
  t.is(r.code, 0, summary(r));
  t.deepEqual(r.recap.testhost && { changed: r.recap.testhost.changed, failed: r.recap.testhost.failed }, { changed: 0, failed: 0 }, summary(r));
  t.deepEqual(r.recap.localhost && { changed: r.recap.localhost.changed, failed: r.recap.localhost.failed }, { changed: 0, failed: 0 }, summary(r));
});

test.serial('verify — services active and enabled, units hardened, secrets 0600, systemd-analyze verify clean', async (t) => {
  const units = ['zookeeper', 'kafka', ...DAEMONS.map((d) => `kafkalake-${d}`)];
  for (const u of units) {
    const s = await host.show(u, ['ActiveState', 'UnitFileState', 'NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'User', 'LimitNOFILE']);
    t.is(s.ActiveState, 'active', `${u}: ${await host.journal(u, 20)}`);
    t.is(s.UnitFileState, 'enabled', u);
    t.is(s.NoNewPrivileges, 'yes', u);
    t.is(s.ProtectSystem, 'strict', u);
    t.is(s.ProtectHome, 'yes', u);
    t.is(s.PrivateTmp, 'yes', u);
    t.not(s.User, '', u);
    t.not(s.User, 'root', u);
  }
  // each daemon at the priority `kafkalake up` gives it: the producer yields the CPU to the pipeline
  for (const d of DAEMONS) {
    const nice = DAEMON_NICE[d as keyof typeof DAEMON_NICE];
    const s = await host.show(`kafkalake-${d}`, ['Nice', 'CPUWeight', 'MainPID']);
    t.is(s.Nice, String(nice), d);
    t.is(s.CPUWeight, String(Math.round(100 / 1.25 ** nice)), d);
    t.is((await host.ssh(`ps -o ni= -p ${s.MainPID}`)).trim(), String(nice), `${d}: the running process's nice`);
  }
  const consumer = await host.show('kafkalake-consumer', ['TimeoutStopUSec', 'Restart', 'User', 'FragmentPath', 'ExecStart']);
  // the node the unit runs is Node.js 24 (kafkalake_node_version)
  const node = /path=(\S+)/.exec(consumer.ExecStart ?? '')?.[1] ?? '';
  t.regex(node, /\/bin\/node$/, consumer.ExecStart);
  t.regex((await host.ssh(`${node} --version`)).trim(), /^v24\./);
  t.is(consumer.TimeoutStopUSec, `${TIMEOUT_STOP_SEC}s`);
  t.is(consumer.Restart, 'on-failure');
  t.is(consumer.User, 'kafkalake');
  t.is((await host.ssh('stat -c "%a %U" /etc/kafkalake/kafkalake.env /etc/systemd/system/kafkalake-consumer.service')).trim(), '600 root\n644 root');
  t.is((await host.ssh(`grep -c '${secrets.secret}' /etc/kafkalake/config.json /etc/kafkalake/inputs/*.json || true`)).trim().split('\n').filter((l) => !l.endsWith(':0')).length, 0);
  const allUnits = ['zookeeper', 'kafka', 'kafkalake-producer', 'kafkalake-consumer', 'kafkalake-scheduler'].map((u) => `/etc/systemd/system/${u}.service`);
  const verify = await host.ssh(`systemd-analyze verify ${allUnits.join(' ')} 2>&1; echo "exit=$?"`);
  t.is(verify.trim(), 'exit=0', verify);
});

test.serial('aws_resources — every resource exists in the twin', async (t) => {
  const r = await host.awsResources(BUCKET);
  t.is(r.encryption, 'AES256');
  t.deepEqual(r.publicAccessBlock, { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
  t.true(Number(r.scriptBytes) > 1000);
  t.is(r.job, `s3://${BUCKET}/glue/scripts/etl_job.py`);
  t.is(r.crawler, `s3://${BUCKET}/datalake/stock_market_data/`, 'one target per lake table (glue/tables), not all of datalake/');
  t.deepEqual(r.crawlerPolicies, ['CRAWL_EVERYTHING', 'UPDATE_IN_DATABASE', 'LOG'], 'RecrawlBehavior, UpdateBehavior, DeleteBehavior');
  t.is(r.database, 'kafkalake');
  t.is(r.workgroupOutput, `s3://${BUCKET}/athena-results/`);
  t.deepEqual(r.namedQueries, ['daily_close']);
  t.deepEqual(r.roles, ['kafkalake-glue', 'kafkalake-host']);
  t.deepEqual(r.instanceProfileRoles, ['kafkalake-host']);
  t.true((r.hostPolicyActions as string[]).includes('s3:PutObject'));
  t.false((r.hostPolicyActions as string[]).some((a) => a.endsWith(':*') || a === '*'), 'no wildcard actions');
  // the definitions of config/alarms.json, as `kafkalake bootstrap` names them
  t.deepEqual(r.alarms, [
    'kafkalake-brokers-missing',
    'kafkalake-compact-failed',
    'kafkalake-consumer-down',
    'kafkalake-consumer-lag-high',
    'kafkalake-crawl-failed',
    'kafkalake-dlq-records',
    'kafkalake-etl-failed',
    'kafkalake-no-records-staged',
    'kafkalake-offline-partitions',
    'kafkalake-report-failed',
    'kafkalake-scheduler-down',
    'kafkalake-under-replicated-partitions',
  ]);
  t.is(r.dashboardWidgets, 12); // the definition of daemons/lib/dashboard.ts: alarms + 11 graphs
  t.deepEqual(r.logGroups, ['/kafkalake']);
});

test.serial('pipeline — records produced on the host reach staging in the twin', async (t) => {
  t.timeout(3 * 60_000);
  const s3 = s3Client(host.awsEndpoint);
  let rows = 0;
  await host
    .waitFor('staged rows', 120_000, async () => {
      rows = (await readStaged(s3, BUCKET, TOPIC)).rows;
      return rows >= 500;
    })
    .catch(async (e: Error) => t.fail(`${e.message}: ${rows} rows\n${await host.journal('kafkalake-consumer')}\n${await host.journal('kafkalake-producer')}`));
  t.true(rows >= 500, `${rows} rows staged`);
});

test.serial('journal — journalctl -u kafkalake-<daemon> shows the daemon’s JSON lines', async (t) => {
  for (const d of DAEMONS) {
    const lines = (await host.ssh(`journalctl -u kafkalake-${d} -o cat --no-pager -n 50`)).trim().split('\n');
    const json = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level?: string; message?: string; daemon?: string });
    t.true(json.length >= 1, `${d}: ${lines.join('\n')}`);
    t.true(json.every((j) => typeof j.level === 'string' && typeof j.message === 'string'), d);
    t.true(json.some((j) => j.daemon === d), d);
    t.false(lines.join('\n').includes(secrets.secret), `${d}: the secret is not logged`);
  }
});

test.serial('restart — a SIGKILLed daemon is restarted by systemd', async (t) => {
  t.timeout(2 * 60_000);
  const unit = 'kafkalake-consumer';
  const before = await host.show(unit, ['MainPID', 'NRestarts']);
  t.not(before.MainPID, '0');
  await host.ssh(`systemctl kill -s KILL ${unit}`);
  let after: Record<string, string> = {};
  await host.waitFor(`${unit} restarted`, 60_000, async () => {
    after = await host.show(unit, ['MainPID', 'NRestarts', 'ActiveState']);
    return after.ActiveState === 'active' && after.MainPID !== '0' && after.MainPID !== before.MainPID;
  });
  t.is(after.ActiveState, 'active');
  t.is(Number(after.NRestarts), Number(before.NRestarts) + 1, JSON.stringify({ before, after }));
});

test.serial('rolling restart — --tags kafkalake after a config change restarts the affected daemons one at a time', async (t) => {
  t.timeout(8 * 60_000);
  const units = ['zookeeper', 'kafka', ...DAEMONS.map((d) => `kafkalake-${d}`)];
  const since = async () => Object.fromEntries(await Promise.all(units.map(async (u) => [u, await activeSince(u)] as const)));

  // a key every daemon reads: all of them restart, in order, each after the previous one proved healthy
  const t0 = await since();
  const common = await host.playbook(inventory({ ...baseConfig, metrics: { flushIntervalMs: 15_000 } }), ['--tags', 'kafkalake']);
  t.is(common.code, 0, summary(common));
  // (only its argument validation, tagged always, shows up, skipped)
  t.false(/TASK \[aws_resources : (?!Validating arguments)/.test(common.output), 'aws_resources is not run under --tags kafkalake');
  const t1 = await since();
  t.is(t1.zookeeper, t0.zookeeper, 'ZooKeeper untouched');
  t.is(t1.kafka, t0.kafka, 'Kafka untouched');
  const order = DAEMONS.map((d) => `kafkalake-${d}`);
  for (const u of order) t.true((t1[u] ?? 0) > (t0[u] ?? 0), `${u} restarted`);
  for (let i = 1; i < order.length; i++) {
    const gap = ((t1[order[i]!] ?? 0) - (t1[order[i - 1]!] ?? 0)) / 1e6;
    t.true(gap >= HEALTH_SECONDS, `${order[i]} restarted ${gap.toFixed(1)} s after ${order[i - 1]} (health wait ${HEALTH_SECONDS} s)`);
  }
  const restartLines = common.output.split('\n').filter((l) => /RUNNING HANDLER \[kafkalake : (Restart|Check health of) kafkalake-/.test(l));
  t.deepEqual(
    restartLines.map((l) => /(Restart|Check health of) (kafkalake-\w+)/.exec(l)?.slice(1, 3).join(' ')),
    order.flatMap((u) => [`Restart ${u}`, `Check health of ${u}`]),
  );

  // a key only the producer reads: only the producer restarts
  const producerOnly = await host.playbook(inventory({ ...baseConfig, metrics: { flushIntervalMs: 15_000 }, producer: { rate: 100, statsIntervalMs: 5000 } }), [
    '--tags',
    'kafkalake',
  ]);
  t.is(producerOnly.code, 0, summary(producerOnly));
  const t2 = await since();
  t.true((t2['kafkalake-producer'] ?? 0) > (t1['kafkalake-producer'] ?? 0), 'producer restarted');
  for (const u of units.filter((u) => u !== 'kafkalake-producer')) t.is(t2[u], t1[u], `${u} not restarted`);
});

test.serial('nothing lost — graceful stops within TimeoutStopSec, every Kafka record staged exactly once, none twice after a restart', async (t) => {
  t.timeout(6 * 60_000);
  const stop = async (unit: string): Promise<number> => {
    const out = await host.ssh(`s=$(date +%s%N); systemctl stop ${unit}; e=$(date +%s%N); echo $(( (e - s) / 1000000 ))`, (TIMEOUT_STOP_SEC + 30) * 1000);
    return Number(out.trim());
  };
  const producerMs = await stop('kafkalake-producer');
  t.true(producerMs < TIMEOUT_STOP_SEC * 1000, `producer stopped in ${producerMs} ms`);
  const p = await host.show('kafkalake-producer', ['Result', 'ExecMainStatus']);
  t.deepEqual(p, { Result: 'success', ExecMainStatus: '0' });

  const s3 = s3Client(host.awsEndpoint);
  const brokers = [`127.0.0.1:${host.kafkaPort}`];
  const ends = await endOffsets(brokers, TOPIC);
  const total = [...ends.values()].reduce((a, b) => a + b, 0);
  t.true(total > 1000, `${total} records in Kafka`);
  let staged = await readStaged(s3, BUCKET, TOPIC);
  await host
    .waitFor('the consumer to stage everything', 180_000, async () => {
      staged = await readStaged(s3, BUCKET, TOPIC);
      return missing(staged, ends) === 0;
    })
    .catch(() => undefined);
  t.is(missing(staged, ends), 0, `${total} in Kafka, ${staged.distinct} staged`);
  t.is(staged.rows, staged.distinct, 'no record staged twice');
  t.is(staged.distinct, total);

  const consumerMs = await stop('kafkalake-consumer');
  t.true(consumerMs < TIMEOUT_STOP_SEC * 1000, `consumer stopped in ${consumerMs} ms`);
  t.deepEqual(await host.show('kafkalake-consumer', ['Result', 'ExecMainStatus']), { Result: 'success', ExecMainStatus: '0' });
  await host.ssh('systemctl start kafkalake-consumer');
  await new Promise((r) => setTimeout(r, 10_000));
  t.is((await host.show('kafkalake-consumer', ['ActiveState'])).ActiveState, 'active');
  const again = await readStaged(s3, BUCKET, TOPIC);
  t.is(again.rows, staged.rows, 'a restarted consumer stages nothing again');
  t.is(again.objects, staged.objects);
});
