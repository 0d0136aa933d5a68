// A scheduler job in a process of its own: for each run of the ETL, the crawl or a report the scheduler
// forks job-worker.js (runInWorker below), sends it the job, the config and how to log, and waits for
// one message back. What a job allocates (DuckDB's buffers, a catalog's partitions, a report's rows) goes
// when the process ends, so the daemon's own memory stays what scheduling needs, and a run that times
// out is stopped for real, not left working in the background.
//
// The worker dies with the scheduler: when its IPC channel closes (the scheduler exited or was
// killed) it exits at once, so a killed scheduler never leaves a job holding the ETL lock.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunJob } from '../jobs/table.js';
import type { Config } from '../lib/config/index.js';
import { isRetriable, KafkalakeError, oneLine } from '../lib/errors.js';
import { createLogger, flushLogger, type LogFormat, type Logger } from '../lib/log.js';

/** scheduler → worker: the one run to do */
export interface WorkerRequest {
  job: string;
  args: string[];
  config: Readonly<Config>;
  secrets: string[];
  log: { daemon: string; level: string; format?: LogFormat; file?: string };
}

/** worker → scheduler: how it ended */
export type WorkerReply = ({ ok: true; report: unknown; lines: string[] } | { ok: false; error: string; retriable: boolean }) & {
  /** the worker's peak resident set, KB: what the run cost in memory (logged by the scheduler) */
  maxRssKb: number;
};

/** exit code of a worker whose scheduler went away */
export const ORPHAN_EXIT = 70;

/** The worker's side: serve one request from the table, reply, exit. */
export function serveWorker(table: readonly RunJob[]): void {
  if (!process.send) {
    process.stderr.write('kafkalake job worker: started without an IPC channel; the scheduler forks this file, it is not run by hand\n');
    process.exit(2);
  }
  process.on('disconnect', () => process.exit(ORPHAN_EXIT));
  process.once('message', (msg: WorkerRequest) => void serve(table, msg));
}

async function serve(table: readonly RunJob[], req: WorkerRequest): Promise<void> {
  const logger = createLogger({ daemon: req.log.daemon, level: req.log.level, file: req.log.file, secrets: req.secrets, format: req.log.format ?? 'json' });
  const log = logger.child({ job: req.job, worker: process.pid });
  let reply: WorkerReply;
  try {
    const job = table.find((j) => j.name === req.job);
    if (!job) throw new Error(`no job "${req.job}" in the run table`);
    const { report, lines } = await job.run(req.config, log, req.args);
    reply = { ok: true, report, lines, maxRssKb: process.resourceUsage().maxRSS };
  } catch (err) {
    reply = { ok: false, error: oneLine(err), retriable: isRetriable(err), maxRssKb: process.resourceUsage().maxRSS };
  }
  await flushLogger(logger);
  process.removeAllListeners('disconnect');
  process.send?.(reply, () => process.exit(0));
}

export const JOB_WORKER = fileURLToPath(new URL('./job-worker.js', import.meta.url));

export interface WorkerPoolOptions {
  /** the file to fork (tests fork their own table); default job-worker.js */
  workerPath?: string;
  /** after a run's signal fires: SIGTERM, then SIGKILL when the worker is still there this much later */
  killGraceMs?: number;
  /**
   * keep one worker forked and idle, its modules loaded, for the next run (a fork costs ~0.7 s of
   * imports, which would add to every ETL's latency); default true
   */
  spare?: boolean;
  /** the scheduler's logger: each worker's exit and peak RSS is logged here */
  log?: Logger;
}

export interface WorkerPool {
  /**
   * Run `req` in a worker of its own and settle with its reply. A failure in the job rejects with its
   * one line (and whether a retry could help); a worker that dies before replying rejects with how it
   * ended. When `signal` fires the worker is stopped (SIGTERM, then SIGKILL).
   */
  run(req: WorkerRequest, signal: AbortSignal): Promise<{ report: unknown; lines: string[] }>;
  /** kill the spare and every worker still running */
  close(): void;
}

export function createWorkerPool(opts: WorkerPoolOptions = {}): WorkerPool {
  const file = opts.workerPath ?? JOB_WORKER;
  const live = new Set<ChildProcess>();
  let spare: ChildProcess | undefined;
  let closed = false;
  const spawn = (): ChildProcess => {
    // execArgv is inherited: the worker has the scheduler's heap limit
    const child = fork(file, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    live.add(child);
    child.once('exit', () => {
      live.delete(child);
      if (spare === child) spare = undefined;
    });
    child.on('error', () => undefined); // a failed fork ends in 'exit' too, reported by the run that took it
    return child;
  };
  const take = (): ChildProcess => {
    const ready = spare?.connected ? spare : undefined;
    spare = undefined;
    return ready ?? spawn();
  };
  if (opts.spare !== false) spare = spawn();

  const run: WorkerPool['run'] = (req, signal) => {
    const where = `job ${req.job} (worker)`;
    if (closed) return Promise.reject(new KafkalakeError('the scheduler is shutting down', { where }));
    if (signal.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new KafkalakeError('aborted before it started', { where }));
    const child = take();
    return new Promise((resolve, reject) => {
      let reply: WorkerReply | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      const stop = () => {
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), opts.killGraceMs ?? 5000);
        killTimer.unref();
      };
      signal.addEventListener('abort', stop, { once: true });
      child.once('message', (m: WorkerReply) => (reply = m));
      child.once('exit', (code, sig) => {
        signal.removeEventListener('abort', stop);
        if (killTimer) clearTimeout(killTimer);
        const peak = reply ? { maxRssMb: Math.round(reply.maxRssKb / 1024) } : {};
        opts.log?.info('job worker exited', { job: req.job, worker: child.pid, code, signal: sig, ...peak });
        if (!closed && opts.spare !== false && !spare) spare = spawn();
        if (reply?.ok) resolve({ report: reply.report, lines: reply.lines });
        else if (reply) reject(new KafkalakeError(reply.error, { where, retriable: reply.retriable }));
        else if (signal.aborted) reject(signal.reason instanceof Error ? signal.reason : new KafkalakeError('stopped', { where }));
        else reject(new KafkalakeError(`the job worker (pid ${child.pid ?? '?'}, ${file}) ended ${sig ? `by signal ${sig}` : `with exit code ${code ?? '?'}`} before it replied (out of memory? see the log above)`, { where }));
      });
      if (child.connected) child.send(req);
    });
  };

  return {
    run,
    close() {
      closed = true;
      for (const child of live) child.kill('SIGKILL');
    },
  };
}
