// Fill a topic and wait: N simulated records, or a CSV file, produced exactly as `kafkalake produce`
// does. For tests (of the consumer, the ETL, ...) and benchmarks that need data in Kafka.
import type { Config } from '../lib/config/index.js';
import { createLogger, type Logger } from '../lib/log.js';
import type { BadRow } from './csv-source.js';
import { startProducer } from './main.js';
import type { StatsSnapshot } from './stats.js';

export type FillOptions = {
  /** default: config.kafka.topic */
  topic?: string;
  /** records/s; default 0 (as fast as the broker takes them) */
  rate?: number;
  log?: Logger;
  onBadRow?: (bad: BadRow) => void;
} & ({ source: 'simulate'; count: number; seed?: number; symbols?: number } | { source: 'csv'; file?: string; limit?: number; loop?: boolean });

/**
 * Produce to a topic (created if missing, with config.kafka.partitions) and resolve when every record is
 * acknowledged, with the counts; rejects if a send failed. `config` is e.g. a test stack's config().
 */
export async function produceRecords(config: Readonly<Config>, opts: FillOptions): Promise<StatsSnapshot> {
  if (opts.source === 'simulate' && !(opts.count >= 1)) throw new RangeError(`produceRecords: count must be at least 1, got ${opts.count}`);
  const producer: Config['producer'] = {
    ...config.producer,
    source: opts.source,
    rate: opts.rate ?? 0,
    ...(opts.source === 'simulate'
      ? { limit: opts.count, seed: opts.seed ?? config.producer.seed, symbols: opts.symbols ?? config.producer.symbols, loop: false }
      : { file: opts.file ?? config.producer.file, limit: opts.limit ?? 0, loop: opts.loop ?? false }),
  };
  const derived: Config = { ...config, kafka: { ...config.kafka, topic: opts.topic ?? config.kafka.topic }, producer };
  const log = opts.log ?? createLogger({ daemon: 'produce', silent: true });
  const service = await startProducer({ config: derived, log, ...(opts.onBadRow ? { onBadRow: opts.onBadRow } : {}) });
  try {
    await service.done;
  } finally {
    await service.close();
  }
  return service.stats.snapshot();
}
