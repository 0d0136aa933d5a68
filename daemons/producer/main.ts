// The producer, wired: config → Kafka client → sink (topic ensured) → source → pump, with the periodic
// stats line. Only wiring here; `kafkalake producer` runs it under runDaemon, `kafkalake produce` in the
// foreground, and produceRecords() for tests and benchmarks.
import { createAwsClients } from '../lib/aws.js';
import type { Config } from '../lib/config/index.js';
import { createKafka } from '../lib/kafka.js';
import { closeAll, once, type Service } from '../lib/lifecycle.js';
import type { Logger } from '../lib/log.js';
import { daemonMetrics, type Metrics } from '../lib/metrics.js';
import { type BadRow, openCsv } from './csv-source.js';
import { createSink, type OutMessage, retriesWithin, type Sink } from './producer.js';
import { createRdkafkaSink } from './rdkafka-sink.js';
import { pump } from './pump.js';
import type { SourceRecord } from './record.js';
import { simulateSource } from './simulate.js';
import { type Clock, Stats } from './stats.js';

export interface ProducerDeps {
  config: Readonly<Config>;
  log: Logger;
  /** the logger kafkajs writes to; default `log` */
  kafkaLog?: Logger;
  /** told about each skipped CSV row (it is counted as failed either way); default: a warn log line */
  onBadRow?: (bad: BadRow) => void;
  /** the daemon's metrics (RecordsSent, BytesSent, RecordsFailed; the heartbeat): none for `kafkalake produce` */
  metrics?: Metrics;
  clock?: Clock;
}

export interface ProducerService extends Service {
  stats: Stats;
  topic: string;
}

/** The sink with its outcomes told: `acked` ranges at debug (the chaos test compares them with the lake), metrics. */
function observed(sink: Sink, log: Logger, metrics: Metrics | undefined): Sink {
  const dims = { topic: sink.topic };
  return {
    ...sink,
    async send(messages: OutMessage[]) {
      const r = await sink.send(messages);
      if (r.acks && log.isDebugEnabled()) for (const a of r.acks) log.debug('acked', { ...a });
      if (metrics) {
        metrics.count('RecordsSent', r.sent, dims);
        metrics.count('BytesSent', r.bytes, dims, 'Bytes');
        if (r.failed) metrics.count('RecordsFailed', r.failed, dims);
      }
      return r;
    },
  };
}

async function openSource(p: Config['producer'], onBadRow: (bad: BadRow) => void, signal: AbortSignal): Promise<AsyncIterable<SourceRecord> | Iterable<SourceRecord>> {
  if (p.source === 'simulate') return simulateSource({ seed: p.seed, symbols: p.symbols });
  return await openCsv({ file: p.file, loop: p.loop, onBadRow, signal });
}

export async function startProducer(deps: ProducerDeps): Promise<ProducerService> {
  const { config, log } = deps;
  const p = config.producer;
  const topic = config.kafka.topic;
  const stats = new Stats(deps.clock);
  const stop = new AbortController();
  const tellBadRow = deps.onBadRow ?? ((bad: BadRow) => log.warn('skipped a bad row', { ...bad }));
  const onBadRow = (bad: BadRow) => {
    stats.badRow();
    tellBadRow(bad);
  };
  // the input first: a missing file fails before anything touches Kafka
  const source = await openSource(p, onBadRow, stop.signal);
  // two clients: the topic check at start gives up after kafka.retries (a broker that is down says so
  // soon); sends ride out a broker restart for producer.deliveryTimeoutMs before anything counts as failed
  const adminKafka = createKafka({ kafka: config.kafka, log: deps.kafkaLog ?? log, clientSuffix: 'producer' });
  const kafka = createKafka({ kafka: { ...config.kafka, retries: retriesWithin(p.deliveryTimeoutMs) }, log: deps.kafkaLog ?? log, clientSuffix: 'producer' });
  const target = { kafka, adminKafka, brokers: config.kafka.brokers, topic, partitions: config.kafka.partitions, replicationFactor: config.kafka.replicationFactor, log };
  const sink = observed(
    p.client === 'librdkafka'
      ? await createRdkafkaSink({ ...target, config, clientLog: deps.kafkaLog ?? log })
      : await createSink({ ...target, lanes: p.maxInFlight, retries: retriesWithin(p.deliveryTimeoutMs) }),
    log,
    deps.metrics,
  );
  log.info('producing', { topic, client: p.client, source: p.source, ...(p.source === 'csv' ? { file: p.file, loop: p.loop } : { seed: p.seed }), rate: p.rate, limit: p.limit, partitions: sink.partitionCount, lanes: sink.lanes });
  // rate: the average since the start; recentRate: records/s over the last interval
  let lastSent = 0;
  const report = setInterval(() => {
    const snap = stats.snapshot();
    log.info('progress', { topic, ...snap, recentRate: Math.round(((snap.sent - lastSent) * 1000) / p.statsIntervalMs) });
    lastSent = snap.sent;
  }, p.statsIntervalMs);
  report.unref();
  const done = pump({
    source,
    sink,
    stats,
    batchSize: p.batchSize,
    window: 2,
    rate: p.rate,
    limit: p.limit,
    signal: stop.signal,
    ...(deps.clock ? { clock: deps.clock } : {}),
  }).finally(() => clearInterval(report));
  const close = once(async () => {
    stop.abort();
    await done.catch(() => undefined);
    log.info('producer stopped', { topic, ...stats.snapshot() });
    await sink.close();
  });
  return { done, close, stats, topic };
}

/** The producer daemon (`kafkalake producer`, what systemd runs): the producer plus its metrics. */
export async function startProducerDaemon({ config, log }: { config: Readonly<Config>; log: Logger }): Promise<ProducerService> {
  const aws = createAwsClients(config);
  const metrics = daemonMetrics(config, aws.cloudwatch, 'producer', log);
  let service: ProducerService;
  try {
    service = await startProducer({ config, log, metrics });
  } catch (err) {
    await metrics.close().catch(() => undefined);
    aws.destroy();
    throw err;
  }
  return {
    ...service,
    close: once(() =>
      closeAll(
        [
          ['producer', () => service.close()],
          ['metrics', () => metrics.close()],
          ['aws clients', () => aws.destroy()],
        ],
        log,
      ),
    ),
  };
}
