// The scheduler daemon, wired: config → AWS clients, metrics, the S3 job history, the jobs of the run
// table (etl, crawl, each saved report) → the scheduler; plus the lag, cluster and alarm monitors. Signals and
// exit codes are runDaemon's (`kafkalake scheduler` runs it); this only builds and closes.
import { RUN_JOBS } from '../jobs/table.js';
import { alarmsFromConfig, evaluatesAlarms } from '../lib/alarms.js';
import { createAwsClients } from '../lib/aws.js';
import { expectedBrokersOf } from '../lib/cluster-health.js';
import type { Config } from '../lib/config/index.js';
import { KafkalakeError } from '../lib/errors.js';
import { createKafka } from '../lib/kafka.js';
import { closeAll, once, type Service } from '../lib/lifecycle.js';
import type { LogFormat, Logger } from '../lib/log.js';
import { daemonMetrics } from '../lib/metrics.js';
import { resolveFromRoot } from '../lib/paths.js';
import { s3History } from './history.js';
import { buildJobs, type JobRunner } from './jobs.js';
import { startMonitors } from './monitors.js';
import { listReportFiles } from './report-files.js';
import { createScheduler, type Scheduler } from './scheduler.js';
import { createWorkerPool } from './worker.js';

export interface SchedulerDaemonOptions {
  config: Readonly<Config>;
  log: Logger;
  /** the config's secret values: each job worker's logger masks them too */
  secrets: readonly string[];
  /** how the job workers, which write to the same stdout, format their lines */
  logFormat?: LogFormat;
}

export async function startSchedulerDaemon({ config, log, secrets, logFormat }: SchedulerDaemonOptions): Promise<Service & { scheduler: Scheduler }> {
  if (!config.aws.bucket) throw new KafkalakeError('aws.bucket is empty: the scheduler keeps its job history in the bucket', { where: 'config aws.bucket' });
  const reports = listReportFiles(resolveFromRoot(config.reports.dir));
  // each run in a worker process of its own: what a job allocates goes with it (worker.ts)
  const workers = createWorkerPool({ log });
  const workerLog = { daemon: 'scheduler', level: config.log.level, format: logFormat ?? 'json', ...(config.log.file ? { file: config.log.file } : {}) };
  const runner: JobRunner = (job, args, signal) => workers.run({ job: job.name, args, config, secrets: [...secrets], log: workerLog }, signal);
  const aws = createAwsClients(config);
  const metrics = daemonMetrics(config, aws.cloudwatch, 'scheduler', log);
  const jobs = buildJobs({ config, log, runJobs: RUN_JOBS, reports, runner, metrics });
  const alarms = evaluatesAlarms(config) ? alarmsFromConfig(config, resolveFromRoot) : undefined;
  const scheduler = createScheduler({
    jobs,
    history: s3History(aws.s3, config.aws.bucket, log),
    log: log.child({ component: 'scheduler' }),
    metrics,
    retry: { retries: config.scheduler.retries, minTimeoutMs: config.scheduler.retryMinMs, maxTimeoutMs: config.scheduler.retryMaxMs },
    keepRuns: config.scheduler.keepRuns,
    catchUp: config.scheduler.catchUp,
  });
  const admin = config.scheduler.lagIntervalMs > 0 ? createKafka({ kafka: config.kafka, log, clientSuffix: 'scheduler' }).admin() : undefined;
  try {
    await scheduler.start();
    await admin?.connect();
  } catch (err) {
    await closeAll([
      ['scheduler', () => scheduler.close()],
      ['job workers', () => workers.close()],
      ['metrics', () => metrics.close()],
      ['aws clients', () => aws.destroy()],
    ]).catch(() => undefined);
    throw err;
  }
  const monitors = startMonitors({
    log,
    metrics,
    ...(admin
      ? {
          lag: { admin, groupId: config.consumer.groupId, topic: config.kafka.topic, intervalMs: config.scheduler.lagIntervalMs },
          // the cluster is measured as often as the lag, with the same admin client
          cluster: { admin, topic: config.kafka.topic, expectedBrokers: expectedBrokersOf(config.kafka), intervalMs: config.scheduler.lagIntervalMs },
        }
      : {}),
    ...(alarms ? { alarms: { cloudwatch: aws.cloudwatch, ...alarms, intervalMs: config.scheduler.alarmIntervalMs } } : {}),
  });
  let stop!: () => void;
  const done = new Promise<void>((r) => (stop = r));
  return {
    done,
    scheduler,
    close: once(async () => {
      await closeAll(
        [
          ['scheduler', () => scheduler.close()],
          ['job workers', () => workers.close()],
          ['monitors', () => monitors.close()],
          ['kafka admin', () => admin?.disconnect()],
          ['metrics', () => metrics.close()],
          ['aws clients', () => aws.destroy()],
        ],
        log,
      );
      stop();
    }),
  };
}
