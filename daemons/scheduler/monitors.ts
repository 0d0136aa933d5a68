// What the scheduler watches besides its jobs: the consumer group's lag measured from Kafka (published
// as ConsumerGroupLag, total and per partition, so the lag alarm sees a dead consumer fall behind), the
// Kafka cluster's health (brokers alive and missing, under-replicated and offline partitions) and, where
// nothing else does it (the local twin), the alarms: evaluated over the metrics, state set with
// SetAlarmState. Each loop runs on its own timer, one pass at a time, and never throws; a measurement
// that fails is logged once per streak of failures.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Admin } from 'kafkajs';
import { type AlarmDefinition, type AlarmSettings, evaluateAlarms } from '../lib/alarms.js';
import { brokersMissing, clusterProblems, measureCluster } from '../lib/cluster-health.js';
import { oneLine } from '../lib/errors.js';
import { measureLag } from '../lib/lag.js';
import type { Logger } from '../lib/log.js';
import type { Metrics } from '../lib/metrics.js';

export interface MonitorDeps {
  log: Logger;
  metrics: Metrics;
  lag?: { admin: Admin; groupId: string; topic: string; intervalMs: number };
  /** expectedBrokers: kafka.expectedBrokers made effective (expectedBrokersOf) */
  cluster?: { admin: Admin; topic: string; expectedBrokers: number; intervalMs: number };
  alarms?: { cloudwatch: CloudWatchClient; defs: AlarmDefinition[]; settings: AlarmSettings; intervalMs: number };
}

export interface Monitors {
  /** one lag measurement now (also what the timer runs) */
  lagOnce(): Promise<void>;
  /** one cluster measurement now */
  clusterOnce(): Promise<void>;
  /** one alarm evaluation now */
  alarmsOnce(): Promise<void>;
  close(): Promise<void>;
}

function loop(fn: () => Promise<void>, ms: number): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= fn().finally(() => (running = undefined));
  }, ms);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** Run a measurement; its failure is logged once per streak of failures, and its recovery once. */
function measurement(log: Logger, what: string): (fn: () => Promise<Record<string, unknown>>) => Promise<void> {
  let failing = false;
  return async (fn) => {
    try {
      const fields = await fn();
      if (failing) log.info(`${what} measured again`, fields);
      failing = false;
    } catch (err) {
      if (!failing) log.warn(`cannot measure ${what}`, { error: oneLine(err) });
      failing = true;
    }
  };
}

export function startMonitors(deps: MonitorDeps): Monitors {
  const { log, metrics } = deps;
  const mlog = log.child({ component: 'monitor' });
  const lagMeasurement = measurement(mlog, 'the consumer lag');
  const lagOnce = async () => {
    const l = deps.lag;
    if (!l) return;
    await lagMeasurement(async () => {
      const parts = await measureLag(l.admin, l.groupId, l.topic);
      let total = 0;
      for (const p of parts) {
        total += p.lag;
        metrics.gauge('ConsumerGroupLag', p.lag, { topic: l.topic, extra: { Partition: String(p.partition) } });
      }
      metrics.gauge('ConsumerGroupLag', total, { topic: l.topic });
      return { total };
    });
  };
  const clusterMeasurement = measurement(mlog, 'the Kafka cluster');
  let clusterState = '';
  const clusterOnce = async () => {
    const c = deps.cluster;
    if (!c) return;
    await clusterMeasurement(async () => {
      const h = await measureCluster(c.admin, { topic: c.topic, expected: c.expectedBrokers });
      // brokers unknown (a partition without a leader hid the metadata): no broker counts rather than wrong ones
      if (h.brokers !== null) {
        metrics.gauge('BrokersAlive', h.brokers.length, undefined, 'Count');
        metrics.gauge('BrokersExpected', h.expected, undefined, 'Count');
        metrics.gauge('BrokersMissing', brokersMissing(h), undefined, 'Count');
      }
      metrics.gauge('UnderReplicatedPartitions', h.underReplicated.length, undefined, 'Count');
      metrics.gauge('OfflinePartitions', h.offline.length, undefined, 'Count');
      metrics.gauge('UnderReplicatedPartitions', h.topic.underReplicated, { topic: c.topic }, 'Count');
      metrics.gauge('OfflinePartitions', h.topic.offline, { topic: c.topic }, 'Count');
      const problems = clusterProblems(h);
      const state = problems.join('; ');
      if (state !== clusterState) {
        if (problems.length > 0) mlog.warn('Kafka cluster unhealthy', { problems, controller: h.controller, brokers: h.brokers, ...(h.partial ? { partial: h.partial } : {}) });
        else mlog.info('Kafka cluster healthy', { brokers: h.brokers, controller: h.controller, partitions: h.partitions });
        clusterState = state;
      }
      return { brokers: h.brokers, underReplicated: h.underReplicated.length, offline: h.offline.length };
    });
  };
  const alarmsOnce = async () => {
    const a = deps.alarms;
    if (!a) return;
    try {
      const evals = await evaluateAlarms(a.cloudwatch, a.defs, a.settings);
      for (const e of evals) if (e.changed) mlog.warn('alarm state changed', { alarm: e.alarm, state: e.state, reason: e.reason });
    } catch (err) {
      mlog.warn('alarm evaluation failed', { error: oneLine(err) });
    }
  };
  const loops: { stop(): Promise<void> }[] = [];
  if (deps.lag) loops.push(loop(lagOnce, deps.lag.intervalMs));
  if (deps.cluster) loops.push(loop(clusterOnce, deps.cluster.intervalMs));
  if (deps.alarms) loops.push(loop(alarmsOnce, deps.alarms.intervalMs));
  return {
    lagOnce,
    clusterOnce,
    alarmsOnce,
    async close() {
      await Promise.all(loops.map((l) => l.stop()));
    },
  };
}
