import test from 'ava';
import { loadConfig } from '../lib/config/index.js';
import { KafkalakeError, oneLine } from '../lib/errors.js';
import { retriesWithin } from './producer.js';
import { loadRdkafka, rdkafkaConfig } from './rdkafka-sink.js';

test('librdkafka chosen but not built: one line naming the setting and how to build it', (t) => {
  const err = t.throws(() => loadRdkafka('@confluentinc/kafka-javascript-not-there'), { instanceOf: KafkalakeError });
  const line = oneLine(err);
  t.false(line.includes('\n'));
  t.is(err?.where, 'config producer.client');
  t.regex(line, /producer\.client is librdkafka but @confluentinc\/kafka-javascript-not-there is not installed or not built \(Cannot find module '@confluentinc\/kafka-javascript-not-there'\)/);
  t.regex(line, /CKJS_LINKING=dynamic npm install/);
});

test('the installed package loads (setup.sh builds it)', (t) => {
  t.is(typeof loadRdkafka().Producer, 'function');
});

test('librdkafka settings: idempotent, acks=all, murmur2 like kafkajs, TLS and SASL mapped', (t) => {
  const { config } = loadConfig({
    env: {},
    overrides: { kafka: { brokers: ['b1:9092', 'b2:9092'], ssl: { enabled: true, caFile: '/etc/ca.pem' }, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } }, producer: { lingerMs: 7 } },
  });
  const c = rdkafkaConfig(config.kafka, config.producer);
  t.like(c, {
    'bootstrap.servers': 'b1:9092,b2:9092',
    'enable.idempotence': true,
    acks: 'all',
    partitioner: 'murmur2_random',
    'linger.ms': 7,
    'security.protocol': 'sasl_ssl',
    'ssl.ca.location': '/etc/ca.pem',
    'sasl.mechanisms': 'SCRAM-SHA-512',
    'sasl.username': 'u',
  });
  t.true((c['max.in.flight.requests.per.connection'] as number) <= 5, 'idempotence allows at most 5');
});

test('kafkajs sends retry with backoff for about producer.deliveryTimeoutMs', (t) => {
  t.is(retriesWithin(0), 0);
  t.is(retriesWithin(300), 1);
  t.is(retriesWithin(10_000), 6); // 0.3 + 0.6 + 1.2 + 2.4 + 4.8 + 9.6 s
  t.is(retriesWithin(60_000), 11); // then 10 s each
});
