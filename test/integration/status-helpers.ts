// What the status and console tests share: a small world on the test stack (a topic, a group behind,
// staged and dead-lettered objects, a job run) and the daemons' metrics, as `kafkalake status` reads them.
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { createKafka } from '../../daemons/lib/kafka.js';
import { createLogger } from '../../daemons/lib/log.js';
import { createMetrics } from '../../daemons/lib/metrics.js';
import { addRun, emptyHistory, s3History } from '../../daemons/scheduler/history.js';
import { type TestStack, unique } from '../helpers/stack.js';

const log = createLogger({ daemon: 'status-helpers', level: 'error', stream: process.stderr });

/** A topic with 12 records, a group 4 behind, a staged object and a DLQ object of two letters, one ETL run in the history. */
export async function world(stack: TestStack) {
  const bucket = await stack.bucket();
  const topic = unique('status');
  const groupId = unique('status-group');
  const kafka = createKafka({ kafka: stack.config().kafka, log });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: 12 }, (_, i) => ({ partition: i % 2, value: `{"i":${i}}` })) });
  await producer.disconnect();
  await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '6' }, { partition: 1, offset: '2' }] });
  await admin.disconnect();
  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  const dt = new Date().toISOString().slice(0, 10);
  const name = `${topic}+0+${'0'.padStart(20, '0')}+${'5'.padStart(20, '0')}.jsonl.gz`;
  await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `staging/${topic}/dt=${dt}/${name}`, Body: 'x' }));
  // two dead letters as the consumer writes them (records.ts): the envelope, the reason, the detail, the raw value
  const letter = (offset: number) => ({ _topic: topic, _partition: 0, _offset: offset, _timestamp: new Date().toISOString(), _key: null, reason: 'not-json', detail: 'Unexpected token', raw_base64: Buffer.from('{x').toString('base64') });
  const dead = gzipSync(`${[letter(0), letter(5)].map((l) => JSON.stringify(l)).join('\n')}\n`);
  await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `staging/_dlq/${topic}/dt=${dt}/${name}`, Body: dead }));
  const start = new Date(Date.now() - 4000).toISOString();
  await s3History(aws.s3, bucket).save(addRun(emptyHistory(), { job: 'etl', reason: 'schedule', start, durationMs: 1200, outcome: 'succeeded', attempts: 1, summary: 'etl: done' }, 5));
  aws.destroy();
  return { bucket, topic, groupId };
}

/** One flush of each daemon's metrics (heartbeat, memory; the consumer's 600 records in and staged, 2.5 s from send to staged; the scheduler's 7.5 s from send to lake). */
export async function heartbeats(stack: TestStack, namespace: string, daemons: string[], topic: string) {
  const aws = createAwsClients(stack.config());
  for (const daemon of daemons) {
    const m = createMetrics({ cloudwatch: aws.cloudwatch, namespace, daemon, log, flushIntervalMs: 3_600_000 });
    if (daemon === 'consumer') {
      m.count('RecordsIn', 600, { topic });
      m.count('RecordsStaged', 600, { topic });
      m.timing('StagedLatency', 2500, { topic });
    }
    if (daemon === 'scheduler') m.timing('LakeLatency', 7500, { extra: { Table: 'stock_market_data' } });
    await m.close();
  }
  aws.destroy();
}

/** The config overrides that point kafkalake at a world: its bucket, topic and group, a metrics namespace of its own, 10 s periods. */
export function worldOverrides(w: { bucket: string; topic: string; groupId: string }, namespace: string, extra: { aws?: Record<string, unknown>; [k: string]: unknown } = {}) {
  return {
    ...extra,
    aws: { bucket: w.bucket, ...extra.aws },
    kafka: { topic: w.topic },
    consumer: { groupId: w.groupId },
    metrics: { namespace, flushIntervalMs: 2000 },
    monitoring: { periodSeconds: 10, alarmPrefix: `${unique('st')}-` },
  };
}
