// The producer, wired: config → Kafka client → sink (topic ensured) → source → pump, with the periodic
// stats line. Only wiring here; `kafkalake producer` runs it under runDaemon, `kafkalake produce` in the
// foreground, and produceRecords() for tests and benchmarks.
import type { Config } from '../lib/config/index.js';
import { createKafka } from '../lib/kafka.js';
import { once, type Service } from '../lib/lifecycle.js';
import type { Logger } from '../lib/log.js';
import { type BadRow, openCsv } from './csv-source.js';
import { createSink } from './producer.js';
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
  clock?: Clock;
}

export interface ProducerService extends Service {
  stats: Stats;
  topic: string;
}

async function openSource(p: Config['producer'], onBadRow: (bad: BadRow) => void, signal: AbortSignal): Promise<AsyncIterable<SourceRecord> | Iterable<SourceRecord>> {
  if (p.source === 'simulate') return simulateSource({ seed: p.seed });
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
  const kafka = createKafka({ kafka: config.kafka, log: deps.kafkaLog ?? log, clientSuffix: 'producer' });
  const sink = await createSink({
    kafka,
    brokers: config.kafka.brokers,
    topic,
    partitions: config.kafka.partitions,
    replicationFactor: config.kafka.replicationFactor,
    lanes: p.maxInFlight,
    retries: config.kafka.retries,
    log,
  });
  log.info('producing', { topic, source: p.source, ...(p.source === 'csv' ? { file: p.file, loop: p.loop } : { seed: p.seed }), rate: p.rate, limit: p.limit, partitions: sink.partitionCount, lanes: sink.lanes });
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
