// The scheduler core: node-cron fires the jobs; this adds what a data engineer expects of a job
// scheduler. No overlap (a fire while the job runs is skipped, logged and counted; or, for a job whose
// misfire is runOnce, run once more as soon as the run ends), a timeout per run
// (the job's AbortSignal fires), retries with backoff for transient errors only (withRetry asks
// isRetriable), dependencies (a job with no cron runs after its dependency changed something; a job
// with a cron waits while anything upstream runs), a history of runs in S3, and one catch-up run on
// start for a schedule missed while the daemon was down.
import cron, { type ScheduledTask } from 'node-cron';
import { isRetriable, KafkalakeError, oneLine } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import type { Metrics } from '../lib/metrics.js';
import { withRetry } from '../lib/retry.js';
import { addRun, addSkip, type History, type HistoryStore, lastRun } from './history.js';
import type { Job, Outcome, Reason, RunRecord } from './job.js';
import { checkCron, missedFire, nextFire, TIMEZONE } from './times.js';

export interface RetrySettings {
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

export interface SchedulerDeps {
  jobs: Job[];
  history: HistoryStore;
  log: Logger;
  metrics?: Metrics;
  retry: RetrySettings;
  /** runs kept per job in the history */
  keepRuns: number;
  /** run a schedule missed while the daemon was down, once, at start */
  catchUp?: boolean;
  now?: () => Date;
}

export interface JobState {
  name: string;
  kind: string;
  cron: string;
  dependsOn?: string;
  running: boolean;
  next: string | null;
  last?: RunRecord;
  skipped: number;
}

export interface Scheduler {
  /** load the history, schedule every job, start the catch-up runs */
  start(): Promise<void>;
  /** run a job now (a fire like any other: skipped if it is running); resolves with its record */
  trigger(name: string, reason?: Reason): Promise<RunRecord | undefined>;
  /** resolves when no run is going */
  idle(): Promise<void>;
  history(): History;
  states(): JobState[];
  /** stop firing, abort the runs in flight, write the history; idempotent */
  close(): Promise<void>;
}

export function createScheduler(deps: SchedulerDeps): Scheduler {
  const { jobs, log, metrics } = deps;
  const now = deps.now ?? (() => new Date());
  const byName = new Map(jobs.map((j) => [j.name, j]));
  for (const j of jobs) {
    if (j.cron) checkCron(j.cron, `job ${j.name} cron`);
    if (j.dependsOn && !byName.has(j.dependsOn)) throw new KafkalakeError(`job ${j.name} depends on "${j.dependsOn}", which is not a job (jobs: ${jobs.map((x) => x.name).join(', ')})`, { where: `job ${j.name}` });
    if (!j.cron && !j.dependsOn) throw new KafkalakeError(`job ${j.name} has neither a cron expression nor a dependency: it would never run`, { where: `job ${j.name}` });
  }

  let hist: History | undefined;
  const running = new Map<string, Promise<void>>();
  /** jobs fired while they ran (by a dependency, or a runOnce job's cron): each runs once more when it ends, for that reason */
  const rerun = new Map<string, Reason>();
  const tasks: ScheduledTask[] = [];
  const stopping = new AbortController();
  let saving: Promise<void> = Promise.resolve();
  /** the tail of each group's queue: a run of the group starts after the one before it ends */
  const groupTails = new Map<string, Promise<void>>();
  let closed = false;

  const persist = () => {
    const snapshot = hist;
    if (!snapshot) return;
    saving = saving
      .then(() => deps.history.save(snapshot))
      .catch((err: unknown) => {
        log.error('writing the job history failed; it is kept in memory and written with the next run', { where: deps.history.where, error: oneLine(err) });
      });
  };

  const dims = (j: Job) => ({ extra: { Job: j.name } });
  const kindDims = (j: Job) => ({ extra: { Kind: j.kind } });

  /** the jobs upstream of j (its dependency, theirs, ...) */
  const upstream = (j: Job): string[] => {
    const out: string[] = [];
    for (let d = j.dependsOn; d && !out.includes(d); d = byName.get(d)?.dependsOn) out.push(d);
    return out;
  };

  /** a fire that did not run: counted in the metrics and the history */
  const skipped = (job: Job) => {
    metrics?.count('JobSkipped', 1, dims(job));
    if (hist) {
      hist = addSkip(hist, job.name);
      persist();
    }
  };

  const runOnce = async (job: Job, reason: Reason): Promise<RunRecord> => {
    const started = now();
    const t0 = performance.now();
    const ac = new AbortController();
    const timeout = new KafkalakeError(`timed out after ${job.timeoutMs} ms`, { where: `job ${job.name}` });
    const timer = setTimeout(() => ac.abort(timeout), job.timeoutMs);
    const stopped = new KafkalakeError('stopped: the scheduler is shutting down', { where: `job ${job.name}` });
    const onStop = () => ac.abort(stopped);
    stopping.signal.addEventListener('abort', onStop, { once: true });
    let attempts = 0;
    let attemptT0 = t0;
    const jlog = log.child({ job: job.name });
    jlog.info('job started', { reason });
    let outcome: Outcome;
    let summary: string | undefined;
    let error: string | undefined;
    let retriable: boolean | undefined;
    let changed = false;
    try {
      const work = withRetry(
        (attempt) => {
          attempts = attempt;
          attemptT0 = performance.now();
          return job.run(ac.signal);
        },
        {
          what: `job ${job.name}`,
          where: `job ${job.name}`,
          ...deps.retry,
          signal: ac.signal,
          onRetry: (err, attempt, left) => {
            if (isRetriable(err) && left > 0) jlog.warn('job attempt failed, retrying', { attempt, retriesLeft: left, error: oneLine(err) });
          },
        },
      );
      work.catch(() => undefined); // settled later than the race below when aborted
      // a job that ignores its signal still ends here at the timeout
      const abortReason = (): Error => (ac.signal.reason instanceof Error ? ac.signal.reason : new Error(String(ac.signal.reason)));
      const aborted = new Promise<never>((_, reject) => {
        if (ac.signal.aborted) reject(abortReason());
        ac.signal.addEventListener('abort', () => reject(abortReason()), { once: true });
      });
      aborted.catch(() => undefined);
      const r = await Promise.race([work, aborted]);
      outcome = 'succeeded';
      summary = r.summary;
      changed = r.changed;
    } catch (err) {
      outcome = ac.signal.aborted && ac.signal.reason === timeout ? 'timed-out' : ac.signal.aborted && ac.signal.reason === stopped ? 'stopped' : 'failed';
      error = oneLine(err);
      retriable = isRetriable(err);
    } finally {
      clearTimeout(timer);
      stopping.signal.removeEventListener('abort', onStop);
    }
    const durationMs = Math.round(performance.now() - t0);
    const rec: RunRecord = {
      job: job.name,
      reason,
      start: started.toISOString(),
      durationMs,
      outcome,
      attempts: Math.max(attempts, 1),
      ...(summary ? { summary } : {}),
      ...(error ? { error, retriable: retriable ?? false } : {}),
    };
    metrics?.timing('JobDuration', durationMs, dims(job));
    const ok = outcome === 'succeeded';
    const counter = ok ? 'JobSuccess' : outcome === 'stopped' ? 'JobStopped' : 'JobFailure';
    metrics?.count(counter, 1, dims(job));
    metrics?.count(counter, 1, kindDims(job));
    // lastAttemptMs: what the attempt that succeeded took (a run retried through an outage started long before it)
    if (ok) jlog.info('job succeeded', { reason, durationMs, attempts: rec.attempts, ...(rec.attempts > 1 ? { lastAttemptMs: Math.round(performance.now() - attemptT0) } : {}), changed, summary });
    else if (outcome === 'stopped') jlog.warn('job stopped by the shutdown', { reason, durationMs });
    else jlog.error(`job ${outcome}`, { reason, durationMs, attempts: rec.attempts, error, retriable });
    if (hist) {
      hist = addRun(hist, rec, deps.keepRuns);
      persist();
    }
    if (ok && changed && !closed) {
      // start dependents before this run's promise settles, so whoever waits on it sees them running
      for (const d of jobs) if (d.dependsOn === job.name && !d.cron) void fire(d, 'dependency');
    }
    return rec;
  };

  const fire = async (job: Job, reason: Reason): Promise<RunRecord | undefined> => {
    if (closed) return undefined;
    if (running.has(job.name)) {
      // the upstream changed something this run may not see (an ETL run ended while the crawl it
      // started last time still runs): run once more when this one ends, or the change waits for the
      // next upstream change, which may never come once data stops. A runOnce job's cron fire does the
      // same (the ETL: what arrived during a long run is merged right after it, not an interval later).
      if (reason === 'dependency' || job.misfire === 'runOnce') {
        if (!rerun.has(job.name)) log.info('job still running; it runs once more when it ends', { job: job.name, reason });
        if (!rerun.has(job.name) || reason === 'dependency') rerun.set(job.name, reason);
        return undefined;
      }
      log.warn('job still running, this fire is skipped', { job: job.name, reason });
      skipped(job);
      return undefined;
    }
    let release!: () => void;
    running.set(job.name, new Promise<void>((r) => (release = r)));
    try {
      // dependency order: wait for the upstream runs going now and for what they start when they end
      // (the crawl an ETL run starts), one round per level, so a busy upstream cannot starve this job
      for (let round = 0; round < upstream(job).length; round++) {
        const busy = upstream(job)
          .map((n) => running.get(n))
          .filter((p): p is Promise<void> => p !== undefined);
        if (busy.length === 0) break;
        log.info('job waits for its dependencies', { job: job.name, waitingFor: upstream(job).filter((n) => running.has(n)) });
        await Promise.all(busy);
      }
      if (closed) return undefined;
      if (job.group) {
        const before = groupTails.get(job.group) ?? Promise.resolve();
        const mine = running.get(job.name)!;
        groupTails.set(job.group, before.then(() => mine));
        await before;
        if (closed) return undefined;
      }
      // a job that follows another does not run before that one has succeeded once (no table to report on)
      const dep = job.dependsOn;
      if (dep && hist && !hist.jobs[dep]?.runs.some((r) => r.outcome === 'succeeded')) {
        log.info('job not run: its dependency has not succeeded yet', { job: job.name, dependsOn: dep, reason });
        metrics?.count('JobNotReady', 1, dims(job));
        return undefined;
      }
      const depLast = dep && hist ? lastRun(hist, dep) : undefined;
      if (job.yieldsToFailedDependency && depLast && depLast.outcome !== 'succeeded') {
        log.info('job skipped: its dependency is behind (its latest run did not succeed); it runs at its next fire', { job: job.name, dependsOn: dep, dependencyOutcome: depLast.outcome, reason });
        skipped(job);
        return undefined;
      }
      return await runOnce(job, reason);
    } finally {
      running.delete(job.name);
      release();
      const again = rerun.get(job.name);
      if (again && rerun.delete(job.name) && !closed) void fire(job, again);
    }
  };

  const states = (): JobState[] =>
    jobs.map((j) => {
      const last = hist ? lastRun(hist, j.name) : undefined;
      return {
        name: j.name,
        kind: j.kind,
        cron: j.cron,
        ...(j.dependsOn ? { dependsOn: j.dependsOn } : {}),
        running: running.has(j.name),
        next: j.cron ? nextFire(j.cron, now()).toISOString() : null,
        ...(last ? { last } : {}),
        skipped: hist?.jobs[j.name]?.skipped ?? 0,
      };
    });

  let closing: Promise<void> | undefined;
  return {
    async start() {
      hist = await deps.history.load();
      for (const job of jobs) {
        if (!job.cron) continue;
        const task = cron.schedule(
          job.cron,
          () => {
            void fire(job, 'schedule');
          },
          { name: job.name, timezone: TIMEZONE },
        );
        tasks.push(task);
      }
      log.info('scheduler started', { jobs: states().map((s) => ({ job: s.name, cron: s.cron || `after ${s.dependsOn ?? '?'}`, next: s.next })) });
      if (deps.catchUp === false) return;
      for (const job of jobs) {
        const last = lastRun(hist, job.name);
        if (!job.cron || !last) continue;
        const missed = missedFire(job.cron, new Date(last.start), now());
        if (missed) {
          log.info('a schedule was missed while the scheduler was down: running once now', { job: job.name, lastRun: last.start, missedFire: missed.toISOString() });
          void fire(job, 'catch-up');
        }
      }
    },
    trigger: (name, reason = 'manual') => {
      const job = byName.get(name);
      if (!job) return Promise.reject(new KafkalakeError(`no job "${name}" (jobs: ${jobs.map((j) => j.name).join(', ')})`, { where: 'scheduler' }));
      return fire(job, reason);
    },
    async idle() {
      while (running.size > 0) await Promise.all(running.values());
      await saving;
    },
    history: () => hist ?? { version: 1, updated: now().toISOString(), jobs: {} },
    states,
    close() {
      closing ??= (async () => {
        closed = true;
        for (const t of tasks) await t.destroy();
        stopping.abort();
        while (running.size > 0) await Promise.all(running.values());
        await saving;
      })();
      return closing;
    },
  };
}
