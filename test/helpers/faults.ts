// The faults of the chaos test, each injected into a running pipeline (test/helpers/pipeline.ts) and then
// timed until the pipeline has recovered. A fault is "cleared" when what broke is back (the supervisor
// restarted the daemon, the broker or ZooKeeper answers again, the AWS twin is reachable again); it has
// "recovered" when
//   - staging: the consumer group has committed past every partition's end offset taken at the clear,
//     i.e. the backlog the fault built up is staged (the consumer commits only after the object's PUT);
//   - lake: an ETL run that started after the clear has succeeded (the scheduler's log).
// Both times are measured from the clear; the time since the injection is reported beside them.
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Producer } from 'kafkajs';
import { lockKey } from '../../daemons/lib/etl/state.js';
import type { Reason } from '../../daemons/consumer/records.js';
import { type LogLine, type Pipeline, sleep, until } from './pipeline.js';
import type { TestStack } from './stack.js';
import type { TcpProxy } from './tcp-proxy.js';

export type FaultName = 'consumer-sigkill' | 'scheduler-sigkill-mid-etl' | 'kafka-restart' | 'zookeeper-restart' | 'aws-outage';
export const FAULT_NAMES: FaultName[] = ['consumer-sigkill', 'scheduler-sigkill-mid-etl', 'kafka-restart', 'zookeeper-restart', 'aws-outage'];

export interface FaultReport {
  fault: FaultName;
  round: number;
  /** ms since the epoch */
  injectedAt: number;
  clearedAt: number;
  /** what happened, in a few words */
  detail: string;
  /** ms from the clear until staging passed the end offsets taken at the clear */
  stagingMs?: number;
  /** ms from the clear until an ETL run started after it succeeded */
  lakeMs?: number;
  /** max of the two, from the clear */
  recoveryMs?: number;
  /** recovery from the injection */
  sinceInjectionMs?: number;
  error?: string;
}

/** A bad record the test sent, and where it landed. */
export interface InjectedRecord {
  kind: BadKind;
  reason: Reason;
  partition: number;
  offset: number;
  /** base64 of the value; null: a tombstone */
  raw: string | null;
  at: number;
}

export type BadKind = 'not-json' | 'not-utf8' | 'json-array' | 'json-number' | 'json-null' | 'tombstone';
const BAD: Record<BadKind, { value: Buffer | null; reason: Reason }> = {
  'not-json': { value: Buffer.from('{"index": "NYA", "date": '), reason: 'not-json' },
  'not-utf8': { value: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xff, 0x22, 0x7d]), reason: 'not-utf8' },
  'json-array': { value: Buffer.from('[{"index":"NYA"},{"index":"HSI"}]'), reason: 'not-object' },
  'json-number': { value: Buffer.from('42'), reason: 'not-object' },
  'json-null': { value: Buffer.from('null'), reason: 'not-object' },
  tombstone: { value: null, reason: 'tombstone' },
};
export const BAD_KINDS = Object.keys(BAD) as BadKind[];

export interface FaultContext {
  pipeline: Pipeline;
  stack: TestStack;
  proxy: TcpProxy;
  /** a client of the twin itself (not through the proxy) */
  s3: S3Client;
  /** the test's own idempotent producer, for bad records */
  producer: Producer;
  injected: InjectedRecord[];
  /** ETL runs the scheduler reported succeeded: [start, end] ms */
  etlSuccesses: Array<{ start: number; end: number }>;
  log: (line: string) => void;
  /** how long the AWS twin stays unreachable */
  awsOutageMs: number;
  /** how long Kafka and ZooKeeper stay stopped before they are started again */
  serviceDownMs: number;
}

/** Send one bad record with the test's producer; remember where it landed. */
export async function injectBad(ctx: FaultContext, kind: BadKind): Promise<InjectedRecord> {
  const b = BAD[kind];
  const [meta] = await ctx.producer.send({ topic: ctx.pipeline.topic, acks: -1, messages: [{ key: `bad-${kind}-${ctx.injected.length}`, value: b.value }] });
  if (!meta || meta.baseOffset === undefined) throw new Error(`no offset for the injected ${kind} record`);
  const rec: InjectedRecord = { kind, reason: b.reason, partition: meta.partition, offset: Number(meta.baseOffset), raw: b.value === null ? null : b.value.toString('base64'), at: Date.now() };
  ctx.injected.push(rec);
  ctx.log(`  bad record ${kind} → partition ${rec.partition} offset ${rec.offset}`);
  return rec;
}

/** Watch the scheduler's log for ETL successes (the scheduler logs `job succeeded` with durationMs, and lastAttemptMs after a retry). */
export function watchEtl(pipeline: Pipeline, into: Array<{ start: number; end: number }>): () => void {
  return pipeline.daemons.scheduler.onLine((l: LogLine) => {
    if (l.message !== 'job succeeded' || l.job !== 'etl') return;
    // a run retried through a fault: its attempt that succeeded is the one that counts, and that attempt
    // read the bookmark and staging afresh when it started
    const end = Date.parse(String(l.timestamp));
    into.push({ start: end - Number(l.lastAttemptMs ?? l.durationMs ?? 0), end });
  });
}

async function endOffsetsNow(p: Pipeline): Promise<Map<number, number>> {
  const lag = await until('the end offsets (Kafka admin)', async () => await p.lag(), 30_000, 500);
  return new Map(lag.map((x) => [x.partition, x.end]));
}

/** Time, from `clearedAt`, until staging passes the end offsets of that moment and an ETL run (its last attempt) started after it succeeded. */
export async function measureRecovery(ctx: FaultContext, r: FaultReport, boundMs: number): Promise<void> {
  const targets = await endOffsetsNow(ctx.pipeline);
  const staging = (async () => {
    await until(
      'staging caught up',
      async () => {
        const lag = await ctx.pipeline.lag();
        return lag.every((x) => (x.committed ?? -1) >= (targets.get(x.partition) ?? 0)) ? true : undefined;
      },
      boundMs + 60_000,
      250,
    );
    r.stagingMs = Date.now() - r.clearedAt;
  })();
  const lake = (async () => {
    const run = await until('an ETL run after the clear succeeded', () => Promise.resolve(ctx.etlSuccesses.find((e) => e.start >= r.clearedAt)), boundMs + 60_000, 250);
    r.lakeMs = run.end - r.clearedAt;
  })();
  const results = await Promise.allSettled([staging, lake]);
  const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) r.error = (failed.reason as Error).message;
  if (r.stagingMs !== undefined && r.lakeMs !== undefined) {
    r.recoveryMs = Math.max(r.stagingMs, r.lakeMs);
    r.sinceInjectionMs = r.recoveryMs + (r.clearedAt - r.injectedAt);
  }
}

async function lockHeld(ctx: FaultContext): Promise<boolean> {
  try {
    await ctx.s3.send(new HeadObjectCommand({ Bucket: ctx.pipeline.bucket, Key: lockKey(ctx.pipeline.config.etl.jobName) }));
    return true;
  } catch {
    return false;
  }
}

/** Inject one fault; returns when it is cleared (recovery is measured by the caller). */
export async function inject(ctx: FaultContext, fault: FaultName, round: number): Promise<FaultReport> {
  const { pipeline, stack, proxy } = ctx;
  const r = (injectedAt: number, clearedAt: number, detail: string): FaultReport => ({ fault, round, injectedAt, clearedAt, detail });
  switch (fault) {
    case 'consumer-sigkill': {
      const c = pipeline.daemons.consumer;
      const pid = c.pid();
      const t0 = Date.now();
      await c.kill('SIGKILL');
      // while it is down, a bad record: the restarted consumer must dead-letter it once
      await injectBad(ctx, 'not-utf8');
      const newPid = await c.running(30_000);
      return r(t0, Date.now(), `pid ${pid} SIGKILLed, restarted as ${newPid}`);
    }
    case 'scheduler-sigkill-mid-etl': {
      const s = pipeline.daemons.scheduler;
      await injectBad(ctx, 'json-array');
      // an ETL run that has taken the lock and is merging: kill it somewhere between download and bookmark
      for (let attempt = 1; ; attempt++) {
        let finished = false;
        const off = s.onLine((l) => {
          if (l.message === 'merging staging objects') finished = false;
          else if (l.job === 'etl' && String(l.message).startsWith('job ') && l.message !== 'job started') finished = true;
        });
        try {
          await s.waitForLine('"merging staging objects" (an ETL run in progress)', (l) => l.message === 'merging staging objects', 60_000);
          await sleep(Math.floor(Math.random() * 600));
          const held = await lockHeld(ctx);
          if (!finished && held) {
            const pid = s.pid();
            const t0 = Date.now();
            await s.kill('SIGKILL');
            const newPid = await s.running(30_000);
            return r(t0, Date.now(), `pid ${pid} SIGKILLed mid-ETL (lock _state/${pipeline.config.etl.jobName}.lock held, attempt ${attempt}), restarted as ${newPid}`);
          }
          if (attempt >= 5) throw new Error(`no ETL run caught in progress in ${attempt} attempts (they finish too fast)`);
        } finally {
          off();
        }
      }
    }
    case 'kafka-restart': {
      const t0 = Date.now();
      await stack.handle.stopService('kafka');
      await sleep(ctx.serviceDownMs);
      await stack.handle.startService('kafka');
      const cleared = Date.now();
      await injectBad(ctx, 'json-number');
      return r(t0, cleared, `broker stopped (SIGTERM, clean shutdown) and started again on the same port and data; stopped for ${((cleared - t0) / 1000).toFixed(1)} s`);
    }
    case 'zookeeper-restart': {
      const t0 = Date.now();
      await stack.handle.stopService('zookeeper');
      await injectBad(ctx, 'json-null'); // the broker serves produce requests without ZooKeeper
      await sleep(ctx.serviceDownMs);
      await stack.handle.startService('zookeeper');
      const cleared = Date.now();
      return r(t0, cleared, `ZooKeeper stopped and started again on the same port and data; stopped for ${((cleared - t0) / 1000).toFixed(1)} s`);
    }
    case 'aws-outage': {
      const t0 = Date.now();
      proxy.off();
      await injectBad(ctx, 'tombstone');
      await sleep(ctx.awsOutageMs);
      proxy.on();
      return r(t0, Date.now(), `every connection to the AWS twin cut and refused for ${ctx.awsOutageMs / 1000} s`);
    }
  }
}

/** The fault table as text: one line per fault. */
export function formatReports(reports: FaultReport[]): string {
  const s = (ms: number | undefined) => (ms === undefined ? '-' : (ms / 1000).toFixed(1));
  const iso = (ms: number) => new Date(ms).toISOString().slice(11, 19);
  const head = `${'fault'.padEnd(27)} ${'round'.padStart(5)} ${'injected'.padEnd(8)} ${'cleared'.padEnd(8)} ${'staging s'.padStart(9)} ${'lake s'.padStart(7)} ${'recovery s'.padStart(10)} ${'since inj. s'.padStart(12)}  detail`;
  return [
    head,
    ...reports.map(
      (r) =>
        `${r.fault.padEnd(27)} ${String(r.round).padStart(5)} ${iso(r.injectedAt)} ${iso(r.clearedAt)} ${s(r.stagingMs).padStart(9)} ${s(r.lakeMs).padStart(7)} ${s(r.recoveryMs).padStart(10)} ${s(r.sinceInjectionMs).padStart(12)}  ${r.detail}${r.error ? ` — ERROR: ${r.error}` : ''}`,
    ),
  ].join('\n');
}
