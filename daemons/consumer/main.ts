// The consumer daemon, wired: config → Kafka client, AWS clients, metrics → the consumer service.
// Signals and exit codes are runDaemon's (daemons/cli/consumer.ts); this only builds and closes.
import { createAwsClients } from '../lib/aws.js';
import type { Config } from '../lib/config/index.js';
import { createKafka } from '../lib/kafka.js';
import { closeAll, once, type Service } from '../lib/lifecycle.js';
import type { Logger } from '../lib/log.js';
import { daemonMetrics } from '../lib/metrics.js';
import { type ConsumerStats, startConsumer } from './consumer.js';

export interface ConsumerDaemonOptions {
  config: Readonly<Config>;
  log: Logger;
  /** stage up to the end offsets taken at start, then finish */
  once?: boolean;
  /** give up starting (the daemon is stopping while it waits for its topic) */
  signal?: AbortSignal;
}

export async function startConsumerDaemon({ config, log, once: drain, signal }: ConsumerDaemonOptions): Promise<Service & { stats(): ConsumerStats }> {
  const aws = createAwsClients(config);
  const metrics = daemonMetrics(config, aws.cloudwatch, 'consumer', log);
  const kafka = createKafka({ kafka: config.kafka, log, clientSuffix: 'consumer' });
  let consumer;
  try {
    consumer = await startConsumer({ config, kafka, s3: aws.s3, metrics, log, once: drain ?? false, ...(signal ? { signal } : {}) });
  } catch (err) {
    await metrics.close().catch(() => undefined);
    aws.destroy();
    throw err;
  }
  const c = consumer;
  return {
    done: c.done,
    stats: () => c.stats(),
    close: once(() =>
      closeAll(
        [
          ['consumer', () => c.close()],
          ['metrics', () => metrics.close()],
          ['aws clients', () => aws.destroy()],
        ],
        log,
      ),
    ),
  };
}
