// The aws-mode ETL: AWS Glue runs glue/etl_job.py (the job Ansible created, its script in S3). We hold
// the run lock, call StartJobRun with the specs as job arguments, poll GetJobRun until a terminal
// state or our timeout (then we ask Glue to stop the run), and report duration, DPU-seconds, the tables'
// figures the job wrote to _state/<job>.last-<action>.json and, on failure, Glue's error message. The
// job itself reads and writes the bookmark (same format as local).
import { BatchStopJobRunCommand, GetJobRunCommand, type GlueClient, type JobRun, StartJobRunCommand } from '@aws-sdk/client-glue';
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkalakeError, oneLine, wrap } from '../errors.js';
import type { Logger } from '../log.js';
import type { TableSpec } from './spec.js';
import { acquireLock, lastRunKey } from './state.js';
import type { ObjectStore } from './store.js';

export const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'ERROR', 'TIMEOUT', 'STOPPED', 'EXPIRED']);

export interface GlueRunReport {
  job: string;
  mode: 'aws';
  runId: string;
  state: string;
  durationMs: number;
  /** Glue's ExecutionTime, seconds */
  executionTimeS: number | null;
  /** DPUSeconds when Glue reports it (auto-scaling, Flex), else MaxCapacity (or workers × DPU per worker) × ExecutionTime */
  dpuSeconds: number | null;
  polls: number;
  /** each table's figures as the job reported them (its last-run file, when it names this run) */
  tables?: GlueTableStats[];
}

/** What glue/etl_job.py reports of a table (new_stats): the DuckDB executor's TableRunStats without its phases. */
export interface GlueTableStats {
  table: string;
  objects: number;
  rowsRead: number;
  rowsRejected: number;
  rowsWritten: number;
  partitions: string[];
  created: string[];
  oldestSentAtMs: number | null;
  committedAtMs: number | null;
}

/** The job arguments the PySpark script reads (glue/etl_job.py parses the same names). */
export function glueArguments(specs: TableSpec[], root: string, job: string, lake: { database?: string; retainMinutes?: number; compact?: { maxFiles: number } } = {}): Record<string, string> {
  return {
    '--kafkalake_root': root,
    '--kafkalake_job': job,
    '--kafkalake_specs': JSON.stringify(specs),
    // the lake's partitions are registered and switched in this database (protocol v3, glue/README.md)
    ...(lake.database ? { '--kafkalake_database': lake.database } : {}),
    ...(lake.retainMinutes !== undefined ? { '--kafkalake_retain_minutes': String(lake.retainMinutes) } : {}),
    // the same job compacts: one script, one role, one lock
    ...(lake.compact ? { '--kafkalake_action': 'compact', '--kafkalake_compact_max_files': String(lake.compact.maxFiles) } : {}),
  };
}

/** DPUs per worker of each Glue worker type */
const WORKER_DPU: Record<string, number> = { 'G.025X': 0.25, 'G.1X': 1, 'G.2X': 2, 'G.4X': 4, 'G.8X': 8, 'Z.2X': 2, Standard: 1 };

export function dpuSeconds(run: JobRun): number | null {
  if (typeof run.DPUSeconds === 'number') return run.DPUSeconds;
  if (typeof run.ExecutionTime !== 'number') return null;
  if (typeof run.MaxCapacity === 'number') return run.ExecutionTime * run.MaxCapacity;
  const perWorker = run.WorkerType ? WORKER_DPU[run.WorkerType] : undefined;
  if (perWorker !== undefined && typeof run.NumberOfWorkers === 'number') return run.ExecutionTime * run.NumberOfWorkers * perWorker;
  return null;
}

/** One line for a run that ended other than SUCCEEDED. */
export function failureLine(job: string, run: JobRun): string {
  const msg = run.ErrorMessage ? `: ${run.ErrorMessage.replace(/\s*\n\s*/g, ' ')}` : '';
  return `Glue job ${job} run ${run.Id ?? '?'} ended ${run.JobRunState ?? 'UNKNOWN'} after ${run.ExecutionTime ?? '?'} s${msg}`;
}

export interface GlueRunnerDeps {
  glue: GlueClient;
  store: ObjectStore;
  specs: TableSpec[];
  job: string;
  log: Logger;
  /** our limit on the whole run: start-up, waiting for resources and Glue's Timeout (config: at least glueTimeoutMinutes + 20 min) */
  timeoutMs: number;
  /** the run's Timeout sent with StartJobRun (overrides the job definition's), minutes; undefined: the job's */
  glueTimeoutMinutes?: number;
  pollIntervalMs: number;
  lockTtlMs: number;
  /** the Glue database of the lake table, whose partitions the job registers and switches */
  database?: string;
  /** etl.retainMinutes: how long the job keeps a replaced generation */
  retainMinutes?: number;
  /** run the job's compaction instead of the ETL */
  compact?: { maxFiles: number };
  sleep?: (ms: number) => Promise<unknown>;
}

export function createGlueRunner(deps: GlueRunnerDeps) {
  const { glue, job, log } = deps;
  const wait = deps.sleep ?? ((ms: number) => sleep(ms));
  const where = `glue job ${job}`;
  const action = deps.compact ? 'compact' : 'etl';
  /** The tables' figures the run wrote (glue/etl_job.py), or undefined (an older script, another run's file: logged). */
  async function jobReport(runId: string): Promise<GlueTableStats[] | undefined> {
    const key = lastRunKey(job, action);
    try {
      const got = await deps.store.get(key);
      const r = got ? (JSON.parse(got.body.toString('utf8')) as { runId?: string; tables?: GlueTableStats[] }) : undefined;
      if (r?.runId === runId && Array.isArray(r.tables)) return r.tables;
      log.warn('the Glue run left no report of its own: its tables\' figures are unknown', { where: deps.store.where(key), runId, found: r?.runId ?? null });
    } catch (err) {
      log.warn('cannot read the Glue run\'s report', { where: deps.store.where(key), error: oneLine(err) });
    }
    return undefined;
  }
  return {
    async run(): Promise<GlueRunReport> {
      const started = Date.now();
      const lock = await acquireLock(deps.store, job, deps.lockTtlMs);
      try {
        let runId: string;
        try {
          const r = await glue.send(new StartJobRunCommand({
              JobName: job,
              Arguments: glueArguments(deps.specs, deps.store.root, job, {
                ...(deps.database ? { database: deps.database } : {}),
                ...(deps.retainMinutes !== undefined ? { retainMinutes: deps.retainMinutes } : {}),
                ...(deps.compact ? { compact: deps.compact } : {}),
              }),
              // Glue's Timeout "overrides the timeout value set in the parent job" and counts only the time
              // the run consumes resources: our timeoutMs, which also counts start-up and queueing, is longer
              ...(deps.glueTimeoutMinutes !== undefined ? { Timeout: deps.glueTimeoutMinutes } : {}),
            }));
          runId = r.JobRunId ?? '';
        } catch (err) {
          throw wrap(err, where, `StartJobRun of Glue job ${job} failed`);
        }
        log.info('Glue job run started', { job, runId });
        let polls = 0;
        for (;;) {
          let run: JobRun | undefined;
          try {
            run = (await glue.send(new GetJobRunCommand({ JobName: job, RunId: runId }))).JobRun;
          } catch (err) {
            throw wrap(err, `${where} run ${runId}`, `GetJobRun of Glue job ${job} run ${runId} failed`);
          }
          polls++;
          const state = run?.JobRunState ?? 'UNKNOWN';
          if (run && TERMINAL.has(state)) {
            if (state !== 'SUCCEEDED') throw new KafkalakeError(failureLine(job, run), { where });
            const report: GlueRunReport = {
              job,
              mode: 'aws',
              runId,
              state,
              durationMs: Date.now() - started,
              executionTimeS: run.ExecutionTime ?? null,
              dpuSeconds: dpuSeconds(run),
              polls,
            };
            const tables = await jobReport(runId);
            if (tables) report.tables = tables;
            log.info('Glue job run succeeded', { ...report, tables: tables?.length });
            return report;
          }
          if (Date.now() - started >= deps.timeoutMs) {
            let stopped = 'asked Glue to stop it';
            try {
              const r = await glue.send(new BatchStopJobRunCommand({ JobName: job, JobRunIds: [runId] }));
              const e = r.Errors?.[0]?.ErrorDetail;
              if (e) stopped = `Glue refused to stop it: ${e.ErrorMessage ?? e.ErrorCode ?? '?'}`;
            } catch (err) {
              stopped = `could not stop it: ${wrap(err, where, 'BatchStopJobRun failed').message}`;
            }
            throw new KafkalakeError(`Glue job ${job} run ${runId} still ${state} after ${Math.round((Date.now() - started) / 1000)} s (etl.timeoutMs); ${stopped}`, { where, retriable: true });
          }
          await wait(Math.min(deps.pollIntervalMs, Math.max(0, deps.timeoutMs - (Date.now() - started))));
        }
      } finally {
        await lock.release();
      }
    },
  };
}
