// slow: the kafka role's options on a real systemd host: KRaft instead of ZooKeeper, and a SASL_SSL
// listener (SCRAM users, TLS from a CA the operator provides — here one made with openssl). Converge
// `--tags kafka`, idempotence, then from outside: the kafkalake producer (the CLI, with the config's
// ssl/sasl settings) writes through the SASL_SSL listener, and a wrong password is refused.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { Kafka, logLevel } from 'kafkajs';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { freePort } from '../../daemons/local/ports.js';
import { missingPrerequisites, type PlaybookRun, sh, TestHost } from './host.js';

const run = promisify(execFile);
const host = new TestHost();
const USER = 'kafkalake';
const PASSWORD = randomBytes(12).toString('hex');
const TOPIC = `secure-${randomUUID().slice(0, 8)}`;
let saslPort = 0;
let tls: { ca: string; cert: string; key: string };
let inventory = '';
let secureVars: Record<string, unknown> = {};
let clusterId = '';

function summary(r: PlaybookRun): string {
  const lines = r.output.split('\n');
  const notable = Object.keys(r.recap).length > 0 ? lines.filter((l) => /fatal|FAILED|changed:|ERROR/.test(l)).slice(-25) : lines.slice(0, 25);
  return `exit ${r.code}, recap ${JSON.stringify(r.recap)}\n${notable.join('\n')}`;
}

/** A CA and a broker certificate for 127.0.0.1 signed by it (unencrypted PKCS#8 key), as an operator would bring. */
async function makeTls(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const f = (n: string) => path.join(dir, n);
  const o = { timeoutMs: 30_000 };
  await sh('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-subj', '/CN=kafkalake-test-ca', '-days', '2'], o);
  await sh('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('broker.key'), '-out', f('broker.csr'), '-subj', '/CN=127.0.0.1'], o);
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await sh('openssl', ['x509', '-req', '-in', f('broker.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('broker.pem'), '-days', '2', '-extfile', f('san.ext')], o);
  return { ca: f('ca.pem'), cert: f('broker.pem'), key: f('broker.key') };
}

function client(password: string): Kafka {
  return new Kafka({
    clientId: 'ansible-secure-test',
    brokers: [`127.0.0.1:${saslPort}`],
    ssl: { ca: [readFileSync(tls.ca, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: USER, password },
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5000,
    requestTimeout: 10000,
    retry: { retries: 2 },
  });
}

test.before(async () => {
  const missingTools = await missingPrerequisites();
  if (missingTools.length > 0) throw new Error(`the ansible test needs: ${missingTools.join(', ')} (npm test installs test/apt-packages.txt as root)`);
  await host.start();
  tls = await makeTls(host.dir);
  saslPort = await freePort();
  // An id that starts with "-" on purpose: one in 64 random ids does, and the role's storage format once
  // read it as an option (CI of 2026-12-07: "argument --cluster-id/-t: expected one argument").
  clusterId = `-${randomBytes(16).toString('base64url').slice(1)}`;
  secureVars = {
    kafka_kraft: true,
    kafka_kraft_cluster_id: clusterId,
    kafka_controller_port: await freePort(),
    kafka_sasl_ssl: true,
    kafka_sasl_ssl_port: saslPort,
    kafka_ssl_ca_cert: tls.ca,
    kafka_ssl_cert: tls.cert,
    kafka_ssl_key: tls.key,
    kafka_scram_users: [{ name: USER, password: PASSWORD }],
    kafkalake_bucket: 'unused',
  };
  inventory = host.inventory(secureVars, { aws_resources_enabled: false });
});

test.after.always(async () => {
  await host.stop();
});

test.serial('a KRaft cluster id that is not 22 URL-safe base64 characters is refused in one line, before anything changes', async (t) => {
  const run = await host.playbook(inventory, ['--tags', 'kafka', '-e', 'kafka_kraft_cluster_id=my-cluster']);
  t.not(run.code, 0, summary(run));
  t.regex(run.output, /kafka on testhost: KRaft needs kafka_kraft_cluster_id \(22 characters of URL-safe base64/, summary(run));
  t.is(run.recap.testhost?.changed, 0, summary(run));
});

test.serial('slow: converge --tags kafka — a KRaft broker with a SASL_SSL listener and SCRAM users; a second run changes nothing', async (t) => {
  t.timeout(8 * 60_000);
  const first = await host.playbook(inventory, ['--tags', 'kafka']);
  t.is(first.code, 0, summary(first));
  t.true((first.recap.testhost?.changed ?? 0) > 5, summary(first));
  const second = await host.playbook(inventory, ['--tags', 'kafka']);
  t.is(second.code, 0, summary(second));
  t.is(second.recap.testhost?.changed, 0, summary(second));
  t.is((await host.show('kafka', ['ActiveState'])).ActiveState, 'active');
  t.true((await host.ssh('cat /var/lib/kafka/data/meta.properties')).includes(`cluster.id=${clusterId}\n`), 'the storage is formatted with the id given');
  t.not((await host.ssh('systemctl is-active zookeeper || true')).trim(), 'active', 'no ZooKeeper with KRaft');
  t.false((await host.ssh('cat /etc/kafka/server.properties')).includes(PASSWORD), 'SCRAM passwords are not in server.properties');
});

test.serial('the kafkalake producer writes through the SASL_SSL listener with the config’s ssl/sasl settings', async (t) => {
  t.timeout(3 * 60_000);
  const admin = client(PASSWORD).admin();
  await admin.connect();
  try {
    t.true(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true }));
  } finally {
    await admin.disconnect();
  }
  const cfg = path.join(host.dir, 'secure-config.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      mode: 'local',
      log: { level: 'warn' },
      kafka: { brokers: [`127.0.0.1:${saslPort}`], topic: TOPIC, ssl: { enabled: true, caFile: tls.ca }, sasl: { mechanism: 'scram-sha-512', username: USER } },
      aws: { endpoint: host.awsEndpoint, bucket: 'unused' },
      metrics: { enabled: false },
    }),
  );
  const { stdout, stderr } = await run(process.execPath, [path.join(PROJECT_ROOT, 'dist/daemons/cli/main.js'), 'produce', '--source', 'simulate', '--count', '200', '--config', cfg], {
    timeout: 90_000,
    env: { ...process.env, KAFKALAKE_KAFKA_SASL_PASSWORD: PASSWORD },
  });
  t.false(`${stdout}${stderr}`.includes(PASSWORD), 'the password is not printed');
  const check = client(PASSWORD).admin();
  await check.connect();
  try {
    const offsets = await check.fetchTopicOffsets(TOPIC);
    t.is(
      offsets.reduce((n, o) => n + Number(o.high), 0),
      200,
      `${stdout}\n${stderr}`,
    );
  } finally {
    await check.disconnect();
  }
});

test.serial('slow: the producer daemon, deployed with the kafkalake role’s ssl/sasl settings, writes through SASL_SSL', async (t) => {
  t.timeout(8 * 60_000);
  const daemonTopic = `daemon-${randomUUID().slice(0, 8)}`;
  const inv = host.inventory(
    {
      ...secureVars,
      kafkalake_daemons: ['producer'],
      kafkalake_kafka_brokers: `127.0.0.1:${saslPort}`,
      kafkalake_topic: daemonTopic,
      kafkalake_topic_partitions: 2,
      kafkalake_kafka_ssl: true,
      kafkalake_kafka_ssl_ca_cert: tls.ca,
      kafkalake_kafka_sasl_mechanism: 'scram-sha-512',
      kafkalake_kafka_sasl_username: USER,
      kafkalake_kafka_sasl_password: PASSWORD,
      kafkalake_config: { producer: { source: 'simulate', rate: 50 }, metrics: { enabled: false } },
    },
    { aws_resources_enabled: false },
  );
  const r = await host.playbook(inv, ['--tags', 'kafkalake']);
  t.is(r.code, 0, summary(r));
  t.is((await host.ssh('stat -c "%a %U:%G" /etc/kafkalake/kafka-ca.pem')).trim(), '640 root:kafkalake');
  t.false((await host.ssh('cat /etc/kafkalake/config.json')).includes(PASSWORD), 'the SASL password is only in the env file');
  const admin = client(PASSWORD).admin();
  await admin.connect();
  let total = 0;
  try {
    await host
      .waitFor('records from the producer daemon', 90_000, async () => {
        const topics = await admin.listTopics();
        if (!topics.includes(daemonTopic)) return false;
        total = (await admin.fetchTopicOffsets(daemonTopic)).reduce((n, o) => n + Number(o.high), 0);
        return total >= 100;
      })
      .catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
  t.true(total >= 100, `${total} records; producer journal:\n${await host.journal('kafkalake-producer')}`);
});

test.serial('a wrong SCRAM password is refused', async (t) => {
  const admin = client('not-the-password').admin();
  const err = await t.throwsAsync(admin.connect());
  t.regex(String(err?.message), /SASL|[Aa]uthentication/);
  await admin.disconnect().catch(() => undefined);
});
