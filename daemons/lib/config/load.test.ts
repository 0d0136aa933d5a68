import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { ConfigError, describeSchema, loadConfig } from './index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-config-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(content: unknown): string {
  const f = path.join(dir, `c${++n}.json`);
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}

const fails = (t: ExecutionContext, fn: () => unknown, ...parts: Array<string | RegExp>) => {
  const err = t.throws(fn, { instanceOf: ConfigError });
  const msg = err?.message ?? '';
  t.false(msg.includes('\n'), 'one line');
  for (const p of parts) {
    if (typeof p === 'string') t.true(msg.includes(p), `"${msg}" should mention "${p}"`);
    else t.regex(msg, p);
  }
  return msg;
};

test('defaults load, and the result is frozen', (t) => {
  const { config } = loadConfig({ file: file({}), env: {} });
  t.is(config.kafka.topic, 'stock_market_data');
  t.is(config.kafka.partitions, 6);
  t.is(config.metrics.namespace, 'KafkaLake');
  t.true(Object.isFrozen(config.kafka));
  t.throws(() => {
    (config.kafka as { topic: string }).topic = 'x';
  });
});

test('env wins over the file, flags win over env, and env strings are coerced', (t) => {
  const f = file({ kafka: { partitions: 3, brokers: ['a:1'] } });
  const env = { KAFKALAKE_KAFKA_PARTITIONS: '12', KAFKALAKE_KAFKA_BROKERS: 'h1:9092, h2:9093', KAFKALAKE_PRODUCER_LOOP: 'false' };
  const { config } = loadConfig({ file: f, env });
  t.is(config.kafka.partitions, 12);
  t.deepEqual(config.kafka.brokers, ['h1:9092', 'h2:9093']);
  t.false(config.producer.loop);
  const flagged = loadConfig({ file: f, env, overrides: { kafka: { partitions: 2 } } });
  t.is(flagged.config.kafka.partitions, 2);
});

test('the file is chosen from --config, then KAFKALAKE_CONFIG, then the host file, then config/local.json', (t) => {
  const a = file({ kafka: { topic: 'from-flag' } });
  const b = file({ kafka: { topic: 'from-env' } });
  t.is(loadConfig({ file: a, env: { KAFKALAKE_CONFIG: b } }).config.kafka.topic, 'from-flag');
  t.is(loadConfig({ env: { KAFKALAKE_CONFIG: b } }).config.kafka.topic, 'from-env');
  const local = loadConfig({ env: {}, hostConfigExists: () => false });
  t.true(local.file.endsWith(path.join('config', 'local.json')));
  t.is(local.config.mode, 'local');
  const host = t.throws(() => loadConfig({ env: {}, hostConfigExists: () => true }), { instanceOf: ConfigError });
  t.true(host?.message.includes('/etc/kafkalake/config.json'));
});

test('an unknown key names itself, the file and the known keys', (t) => {
  const f = file({ kafka: { partitons: 3 } });
  fails(t, () => loadConfig({ file: f, env: {} }), 'unknown key kafka.partitons', f, 'partitions');
});

test('a wrong type names the key, the value, its source and what is allowed', (t) => {
  const f = file({ kafka: { partitions: 'six' } });
  fails(t, () => loadConfig({ file: f, env: {} }), 'kafka.partitions = "six"', `from ${f}`, 'integer ≥ 1');
  fails(t, () => loadConfig({ file: file({}), env: { KAFKALAKE_KAFKA_PARTITIONS: '-2' } }), 'kafka.partitions', 'env KAFKALAKE_KAFKA_PARTITIONS', 'integer ≥ 1');
  fails(t, () => loadConfig({ file: file({ mode: 'cloud' }), env: {} }), 'mode = "cloud"', 'one of local, aws');
  fails(t, () => loadConfig({ file: file({ producer: { loop: 'yes' } }), env: {} }), 'producer.loop', 'true or false');
  fails(t, () => loadConfig({ file: file({}), env: { KAFKALAKE_PRODUCER_CLIENT: 'rdkafka' } }), 'producer.client', 'one of kafkajs, librdkafka');
  fails(t, () => loadConfig({ file: file({ kafka: { brokers: ['no-port'] } }), env: {} }), 'kafka.brokers', 'host:port');
  fails(t, () => loadConfig({ file: file({ aws: { endpoint: 'localhost' } }), env: {} }), 'aws.endpoint', 'URL');
});

test('a bad cron expression is refused at load', (t) => {
  fails(t, () => loadConfig({ file: file({ etl: { cron: '61 * * * *' } }), env: {} }), 'etl.cron = "61 * * * *"', 'cron expression');
  fails(t, () => loadConfig({ file: file({}), env: { KAFKALAKE_CRAWL_CRON: 'every minute' } }), 'crawl.cron', 'env KAFKALAKE_CRAWL_CRON');
  t.is(loadConfig({ file: file({ etl: { cron: '0 */5 * * * *' } }), env: {} }).config.etl.cron, '0 */5 * * * *');
});

test('aws mode needs a bucket', (t) => {
  fails(t, () => loadConfig({ file: file({ mode: 'aws' }), env: {} }), 'aws.bucket is required in aws mode');
  t.is(loadConfig({ file: file({ mode: 'aws', aws: { bucket: 'b' } }), env: {} }).config.aws.bucket, 'b');
});

test('the crawl recrawl policy CRAWL_NEW_FOLDERS_ONLY goes with the LOG policies only, as in Glue', (t) => {
  fails(t, () => loadConfig({ file: file({ crawl: { recrawlPolicy: 'CRAWL_NEW_FOLDERS_ONLY' } }), env: {} }), 'crawl.recrawlPolicy CRAWL_NEW_FOLDERS_ONLY needs crawl.schemaChangePolicy LOG', '(schemaChangePolicy is UPDATE_IN_DATABASE, deleteBehavior LOG)');
  const env = { KAFKALAKE_CRAWL_RECRAWL_POLICY: 'CRAWL_NEW_FOLDERS_ONLY', KAFKALAKE_CRAWL_SCHEMA_CHANGE_POLICY: 'LOG' };
  t.like(loadConfig({ file: file({}), env }).config.crawl, { recrawlPolicy: 'CRAWL_NEW_FOLDERS_ONLY', schemaChangePolicy: 'LOG', deleteBehavior: 'LOG' });
  t.is(loadConfig({ file: file({}), env: {} }).config.crawl.recrawlPolicy, 'CRAWL_EVERYTHING');
});

test('secret values never appear in errors, and are listed for redaction', (t) => {
  const msg = fails(t, () => loadConfig({ file: file({ kafka: { sasl: { password: 12345678 } } }), env: {} }), 'kafka.sasl.password = (hidden)');
  t.false(msg.includes('12345678'));
  const ok = loadConfig({
    file: file({ kafka: { sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'hunter2-secret' } } }),
    env: { KAFKALAKE_AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', KAFKALAKE_AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI' },
  });
  t.deepEqual([...ok.secrets].sort(), ['AKIAEXAMPLE', 'hunter2-secret', 'wJalrXUtnFEMI']);
  fails(t, () => loadConfig({ file: file({ kafka: { sasl: { mechanism: 'plain', username: 'u' } } }), env: {} }), 'needs kafka.sasl.username and kafka.sasl.password');
  fails(t, () => loadConfig({ file: file({}), env: { KAFKALAKE_AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' } }), 'go together');
});

test('a missing, unreadable or malformed file is one line naming it', (t) => {
  const missing = path.join(dir, 'nope.json');
  fails(t, () => loadConfig({ file: missing, env: {} }), `cannot read ${missing}: no such file`);
  fails(t, () => loadConfig({ file: file('{"mode": '), env: {} }), 'is not valid JSON');
  fails(t, () => loadConfig({ file: file('[1]'), env: {} }), 'must hold a JSON object');
  if (process.getuid?.() !== 0) {
    const f = file({});
    chmodSync(f, 0o000);
    fails(t, () => loadConfig({ file: f, env: {} }), 'permission denied');
  }
});

test('relative paths resolve against the project root', (t) => {
  const { config } = loadConfig({ file: file({ producer: { file: 'x/y.csv' } }), env: {} });
  t.true(path.isAbsolute(config.producer.file));
  t.true(config.producer.file.endsWith(path.join('x', 'y.csv')));
});

test('every key is documented, with an env var', (t) => {
  const keys = describeSchema();
  t.true(keys.length > 40);
  for (const k of keys) {
    t.true(k.doc.length > 5, `${k.key} has a doc`);
    t.regex(k.env, /^KAFKALAKE_[A-Z0-9_]+$/, `${k.key} has an env var`);
  }
  t.is(new Set(keys.map((k) => k.env)).size, keys.length, 'env vars are unique');
});

test('local mode: unset kafka.brokers is the local stack’s broker; a named one, or aws mode, keeps its own', (t) => {
  t.deepEqual(loadConfig({ file: file({ local: { kafkaPort: 39092 } }), env: {} }).config.kafka.brokers, ['127.0.0.1:39092']);
  t.deepEqual(loadConfig({ file: file({ local: { kafkaPort: 39092 }, kafka: { brokers: ['b:1'] } }), env: {} }).config.kafka.brokers, ['b:1']);
  t.deepEqual(loadConfig({ file: file({ local: { kafkaPort: 39092 } }), env: { KAFKALAKE_KAFKA_BROKERS: 'e:2' } }).config.kafka.brokers, ['e:2']);
  t.deepEqual(loadConfig({ file: file({ mode: 'aws', aws: { bucket: 'b' }, local: { kafkaPort: 39092 } }), env: {} }).config.kafka.brokers, ['127.0.0.1:9092']);
});

test('etl.timeoutMs outlasts the Glue run: derived from etl.glueTimeoutMinutes in aws mode, checked when set', (t) => {
  const aws = { mode: 'aws', aws: { bucket: 'b' } };
  t.is(loadConfig({ file: file({}), env: {} }).config.etl.timeoutMs, 1_800_000, 'local mode: 30 minutes');
  const derived = loadConfig({ file: file(aws), env: {} }).config.etl;
  t.is(derived.glueTimeoutMinutes, 30);
  t.true(derived.timeoutMs > derived.glueTimeoutMinutes * 60_000, 'the runner gives up after Glue would');
  t.is(derived.timeoutMs, 50 * 60_000, 'the run’s 30 min plus 20 min of start-up and waiting for resources');
  t.is(loadConfig({ file: file({ ...aws, etl: { glueTimeoutMinutes: 10 } }), env: {} }).config.etl.timeoutMs, 30 * 60_000);
  t.is(loadConfig({ file: file({ ...aws, etl: { glueTimeoutMinutes: 10, timeoutMs: 1_800_000 } }), env: {} }).config.etl.timeoutMs, 1_800_000);
  const f = file({ ...aws, etl: { timeoutMs: 1_800_000 } });
  fails(t, () => loadConfig({ file: f, env: {} }), `etl.timeoutMs = 1800000 (from ${f}): must be at least 3000000 in aws mode`, 'etl.glueTimeoutMinutes 30 min', 'or 0 to derive it');
  fails(t, () => loadConfig({ file: file(aws), env: { KAFKALAKE_ETL_TIMEOUT_MS: '60000' } }), 'etl.timeoutMs = 60000 (from env KAFKALAKE_ETL_TIMEOUT_MS)');
  fails(t, () => loadConfig({ file: file(aws), env: { KAFKALAKE_ETL_GLUE_TIMEOUT_MINUTES: '20000' } }), 'etl.glueTimeoutMinutes = 20000 (from env KAFKALAKE_ETL_GLUE_TIMEOUT_MINUTES): must be at most 10080');
  t.is(loadConfig({ file: file({ etl: { timeoutMs: 5000 } }), env: {} }).config.etl.timeoutMs, 5000, 'local mode: any limit (no Glue start-up to wait for)');
});
