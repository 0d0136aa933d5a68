// What the scheduler runs: an abstract job. The adapters in jobs.ts wrap the real ETL, crawl and report
// functions in this shape; tests hand in their own.

export interface JobResult {
  /** whether the run changed what depends on it (the ETL wrote partitions): dependent jobs run only then */
  changed: boolean;
  /** one line for the history and the log */
  summary?: string;
}

export interface Job {
  name: string;
  /** etl | crawl | report: the Kind dimension of the job metrics, so one alarm covers every report */
  kind: string;
  /** node-cron expression (seconds field allowed); empty: the job runs only after its dependency */
  cron: string;
  /**
   * the job this one follows. With an empty cron the job runs after each successful run of it that
   * reported `changed`; with a cron, a fire waits while the dependency is running.
   */
  dependsOn?: string;
  /** jobs of one group run one at a time (the saved reports share the SQL engine's cache) */
  group?: string;
  /**
   * upkeep that gives way to a dependency that is behind: a fire is skipped (logged and counted) while
   * the dependency's latest run did not succeed. The compaction: after an ETL run failed (AWS out of
   * reach) it took the lake's lock first, and the run that catches up waited 11 s behind it.
   */
  yieldsToFailedDependency?: boolean;
  /**
   * a cron fire while the job still runs: skipped (the default: logged and counted; the next fire comes
   * anyway), or runOnce: it runs once more as soon as the run ends (several such fires make one run)
   */
  misfire?: 'skip' | 'runOnce';
  /** a run still going after this long is aborted (its signal fires) and recorded as timed out */
  timeoutMs: number;
  run(signal: AbortSignal): Promise<JobResult>;
}

/** stopped: the scheduler shut down during the run (not a failure of the job) */
export type Outcome = 'succeeded' | 'failed' | 'timed-out' | 'stopped';
export type Reason = 'schedule' | 'catch-up' | 'dependency' | 'manual';

/** One run as kept in the history. */
export interface RunRecord {
  job: string;
  reason: Reason;
  /** ISO time the run started */
  start: string;
  durationMs: number;
  outcome: Outcome;
  attempts: number;
  summary?: string;
  error?: string;
  /** whether trying again could have helped (for a failure) */
  retriable?: boolean;
}
