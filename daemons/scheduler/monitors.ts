// What the scheduler watches besides its jobs: the consumer group's lag measured from Kafka (published
// as ConsumerGroupLag, total and per partition, so the lag alarm sees a dead consumer fall behind) and,
// where nothing else does it (the local twin), the alarms: evaluated over the metrics, state set with
// SetAlarmState. Each loop runs on its own timer, one pass at a time, and never throws.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Admin } from 'kafkajs';
import { type AlarmDefinition, type AlarmSettings, evaluateAlarms } from '../lib/alarms.js';
import { oneLine } from '../lib/errors.js';
import { measureLag } from '../lib/lag.js';
import type { Logger } from '../lib/log.js';
import type { Metrics } from '../lib/metrics.js';

export interface MonitorDeps {
  log: Logger;
  metrics: Metrics;
  lag?: { admin: Admin; groupId: string; topic: string; intervalMs: number };
  alarms?: { cloudwatch: CloudWatchClient; defs: AlarmDefinition[]; settings: AlarmSettings; intervalMs: number };
}

export interface Monitors {
  /** one lag measurement now (also what the timer runs) */
  lagOnce(): Promise<void>;
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

export function startMonitors(deps: MonitorDeps): Monitors {
  const { log, metrics } = deps;
  const mlog = log.child({ component: 'monitor' });
  let lagFailing = false;
  const lagOnce = async () => {
    const l = deps.lag;
    if (!l) return;
    try {
      const parts = await measureLag(l.admin, l.groupId, l.topic);
      let total = 0;
      for (const p of parts) {
        total += p.lag;
        metrics.gauge('ConsumerGroupLag', p.lag, { topic: l.topic, extra: { Partition: String(p.partition) } });
      }
      metrics.gauge('ConsumerGroupLag', total, { topic: l.topic });
      if (lagFailing) mlog.info('consumer lag measured again', { total });
      lagFailing = false;
    } catch (err) {
      if (!lagFailing) mlog.warn('cannot measure the consumer lag', { error: oneLine(err) });
      lagFailing = true;
    }
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
  if (deps.alarms) loops.push(loop(alarmsOnce, deps.alarms.intervalMs));
  return {
    lagOnce,
    alarmsOnce,
    async close() {
      await Promise.all(loops.map((l) => l.stop()));
    },
  };
}
