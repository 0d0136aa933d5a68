// The shared metrics module (daemons/lib/metrics.ts) and the consumer's metrics against the AWS twin's
// CloudWatch through the real SDK: datums land with namespace and dimensions Daemon/Topic; while CloudWatch
// is unreachable (a TCP proxy in front of the twin, switched off) recording never blocks, the buffer stays
// bounded and drops are counted; and `kafkalake consume --once` publishes records/bytes in, objects written,
// DLQ count, lag per partition and PUT latency.
import test from 'ava';
import { type Dimension, GetMetricDataCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { createLogger } from '../../daemons/lib/log.js';
import { createMetrics } from '../../daemons/lib/metrics.js';
import { unique } from '../helpers/stack.js';
import { consumerRun, produce, runCli, simulatedMessages } from './consumer-helpers.js';
import { sharedStack } from './shared-stack.js';

const shared = sharedStack({ proxy: true });
const log = createLogger({ daemon: 'metrics-test', level: 'error', stream: process.stderr });

async function sumOf(cw: ReturnType<typeof createAwsClients>['cloudwatch'], namespace: string, name: string, dims: Dimension[], stat = 'Sum'): Promise<number | undefined> {
  const end = new Date(Date.now() + 60_000);
  const start = new Date(Date.now() - 10 * 60_000);
  const r = await cw.send(
    new GetMetricDataCommand({
      StartTime: start,
      EndTime: end,
      MetricDataQueries: [{ Id: 'q', MetricStat: { Metric: { Namespace: namespace, MetricName: name, Dimensions: dims }, Period: 3600, Stat: stat } }],
    }),
  );
  const values = r.MetricDataResults?.[0]?.Values ?? [];
  return values.length ? values.reduce((a, b) => a + b, 0) : undefined;
}

test('counters, gauges and timings land in CloudWatch with namespace and Daemon/Topic dimensions', async (t) => {
  const namespace = unique('KafkaLakeTest');
  const aws = createAwsClients(shared.stack.config());
  const m = createMetrics({ cloudwatch: aws.cloudwatch, namespace, daemon: 'consumer', log, flushIntervalMs: 60_000, processGauges: false });
  m.count('RecordsIn', 10, { topic: 't1' });
  m.count('RecordsIn', 5, { topic: 't1' });
  m.gauge('ConsumerLag', 7, { topic: 't1', extra: { Partition: '2' } });
  m.timing('PutLatency', 12.5, { topic: 't1' });
  m.timing('PutLatency', 30, { topic: 't1' });
  await m.close();
  t.is(m.stats().sent, 3);
  const listed = await aws.cloudwatch.send(new ListMetricsCommand({ Namespace: namespace }));
  const names = (listed.Metrics ?? []).map((x) => `${x.MetricName}:${(x.Dimensions ?? []).map((d) => `${d.Name}=${d.Value}`).sort().join(',')}`).sort();
  t.deepEqual(names, ['ConsumerLag:Daemon=consumer,Partition=2,Topic=t1', 'PutLatency:Daemon=consumer,Topic=t1', 'RecordsIn:Daemon=consumer,Topic=t1']);
  const dims = [
    { Name: 'Daemon', Value: 'consumer' },
    { Name: 'Topic', Value: 't1' },
  ];
  t.is(await sumOf(aws.cloudwatch, namespace, 'RecordsIn', dims), 15);
  t.is(await sumOf(aws.cloudwatch, namespace, 'PutLatency', dims, 'Maximum'), 30);
  aws.destroy();
});

test('CloudWatch unreachable: recording does not block, the buffer stays bounded, drops are counted', async (t) => {
  const namespace = unique('KafkaLakeTest');
  const { stack, proxy } = shared;
  const aws = createAwsClients(stack.config({ aws: { endpoint: proxy.url, maxAttempts: 2, requestTimeoutMs: 2000 } }));
  const m = createMetrics({ cloudwatch: aws.cloudwatch, namespace, daemon: 'consumer', log, flushIntervalMs: 100, maxPending: 50, processGauges: false });
  proxy.off();
  try {
    // count() is synchronous and never waits on the network: a call blocked by the dead endpoint would take
    // at least a connection attempt (the SDK's timeout is 2 s here); the average stays far below 1 ms even
    // on a loaded machine
    let calls = 0;
    let spent = 0;
    for (let round = 0; round < 5; round++) {
      const t0 = performance.now();
      for (let i = 0; i < 40; i++) t.is(m.count(`M${i}`, 1, { topic: 't' }), undefined); // 40 distinct datums a round
      for (let i = 0; i < 10_000; i++) m.count('Hot', 1, { topic: 't' });
      spent += performance.now() - t0;
      calls += 10_040;
      await new Promise((r) => setTimeout(r, 300));
    }
    t.true(spent / calls < 1, `${spent / calls} ms a call`);
    await m.flush();
    const s = m.stats();
    t.true(s.failedSends > 0);
    t.true(s.pending <= 50 + 41, `pending ${s.pending}`);
    t.true(s.dropped > 0, 'drops are counted');
    t.is(s.sent, 0);
  } finally {
    proxy.on();
  }
  // back: what is still held is sent, the rest was dropped, not queued for ever
  m.count('AfterOutage', 1, { topic: 't' });
  await m.close();
  t.true(m.stats().sent > 0);
  const listed = await aws.cloudwatch.send(new ListMetricsCommand({ Namespace: namespace, MetricName: 'AfterOutage' }));
  t.is(listed.Metrics?.length, 1);
  aws.destroy();
});

test('the consumer publishes records/bytes in, objects written, DLQ count, lag per partition, PUT latency and send → staged latency', async (t) => {
  t.timeout(3 * 60_000);
  const namespace = unique('KafkaLakeTest');
  const { stack } = shared;
  const { topic, cfg } = await consumerRun(stack, 'metrics', 2, { metrics: { enabled: true, namespace, flushIntervalMs: 500 } });
  await produce(stack.brokers, topic, [...simulatedMessages(0, 3000), { key: 'NYA', value: 'not json' }, { key: 'NYA', value: '[1]' }]);
  const sentBy = Date.now();
  const run = runCli(['consume', '--once', '--config', cfg]);
  t.is((await run.exited).code, 0, run.stderr());
  const stagedBy = Date.now();
  // every metric it sent is one the dashboard and alarms know (metrics.ts warns about any other)
  t.false(`${run.stdout()}${run.stderr()}`.includes('not in PUBLISHED_METRICS'), `${run.stdout()}${run.stderr()}`.split('\n').filter((l) => l.includes('PUBLISHED_METRICS')).join('\n'));
  const aws = createAwsClients(stack.config());
  const listed = await aws.cloudwatch.send(new ListMetricsCommand({ Namespace: namespace }));
  const names = new Set((listed.Metrics ?? []).map((x) => x.MetricName));
  for (const n of ['RecordsIn', 'BytesIn', 'ObjectsWritten', 'RecordsStaged', 'DlqRecords', 'ConsumerLag', 'PutLatency', 'StagedLatency']) t.true(names.has(n), `${n} in ${[...names].join(',')}`);
  const lagPartitions = (listed.Metrics ?? []).filter((x) => x.MetricName === 'ConsumerLag').map((x) => x.Dimensions?.find((d) => d.Name === 'Partition')?.Value);
  t.true(lagPartitions.length >= 1 && lagPartitions.every((p) => p === '0' || p === '1'));
  const dims = [
    { Name: 'Daemon', Value: 'consumer' },
    { Name: 'Topic', Value: topic },
  ];
  t.is(await sumOf(aws.cloudwatch, namespace, 'RecordsIn', dims), 3002);
  t.is(await sumOf(aws.cloudwatch, namespace, 'RecordsStaged', dims), 3000);
  t.is(await sumOf(aws.cloudwatch, namespace, 'DlqRecords', dims), 2);
  t.true(((await sumOf(aws.cloudwatch, namespace, 'PutLatency', dims, 'Maximum')) ?? 0) > 0);
  // the records were sent before the consumer started: each object's oldest waited at least that gap
  const staged = (await sumOf(aws.cloudwatch, namespace, 'StagedLatency', dims, 'Maximum')) ?? -1;
  t.true(staged > 0 && staged <= stagedBy - sentBy + 60_000, `StagedLatency max ${staged} ms`);
  aws.destroy();
});
