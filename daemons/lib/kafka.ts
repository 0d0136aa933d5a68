// The kafkajs client, built from config, logging through our logger.
import { readFileSync } from 'node:fs';
import './kafkajs-timeout.js';
import { type Admin, Kafka, type KafkaConfig, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Config } from './config/index.js';
import type { Logger } from './log.js';

const LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

function logCreator(log: Logger) {
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...rest } = entry as { message: string; timestamp?: string; logger?: string } & Record<string, unknown>;
      // a broker's error response ("The group coordinator is not available" while a group starts) is logged
      // by kafkajs' Connection, then retried or thrown by the caller, which reports it if it is final
      // and a consumer's crash ("Crash: ... The coordinator is loading", on a fresh broker) is reported by the
      // consumer's CRASH handler, once: a warning when kafkajs restarts it, the daemon's failure when not
      // and "Limiting retries for the idempotent producer may invalidate EoS guarantees" (once per producer
      // lane, at every start) is a choice made on purpose: retries are bounded by producer.deliveryTimeoutMs,
      // as the Java client's delivery.timeout.ms, so a broker outage ends in counted failures, not a hang; a
      // batch re-sent after that is deduplicated downstream on the table's business key (DESIGN.md)
      const known =
        (namespace === 'Connection' && message.startsWith('Response ')) ||
        (namespace === 'Consumer' && message.startsWith('Crash: ')) ||
        message.startsWith('Limiting retries for the idempotent producer');
      const lvl = known ? 'debug' : (LEVEL[level] ?? 'info');
      log.log(lvl, message, { component: `kafkajs.${namespace}`, ...rest });
    };
}

function sasl(c: Config['kafka']): SASLOptions | undefined {
  const { mechanism, username, password } = c.sasl;
  if (mechanism === 'none') return undefined;
  return { mechanism, username, password };
}

export interface KafkaClientOptions {
  kafka: Config['kafka'];
  log: Logger;
  /** appended to the configured clientId: "kafkalake-producer" */
  clientSuffix?: string;
}

export function createKafka({ kafka, log, clientSuffix }: KafkaClientOptions): Kafka {
  const cfg: KafkaConfig = {
    clientId: clientSuffix ? `${kafka.clientId}-${clientSuffix}` : kafka.clientId,
    brokers: [...kafka.brokers],
    connectionTimeout: kafka.connectionTimeoutMs,
    requestTimeout: kafka.requestTimeoutMs,
    retry: { retries: kafka.retries, initialRetryTime: 300, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator: logCreator(log.child({ component: 'kafkajs' })),
  };
  if (kafka.ssl.enabled) cfg.ssl = kafka.ssl.caFile ? { ca: [readFileSync(kafka.ssl.caFile, 'utf8')] } : true;
  const s = sasl(kafka);
  if (s) cfg.sasl = s;
  return new Kafka(cfg);
}

/** Connect an admin client, run fn with it, disconnect (also when fn fails). */
export async function withAdmin<T>(kafka: Kafka, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
