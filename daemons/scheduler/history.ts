// The job history: the last runs of each job (start, duration, outcome, error) and how many fires
// were skipped because a run was still going. Kept in S3 at `_state/scheduler/history.json` so a
// restart (or another host taking over) does not lose it; the missed-run catch-up reads it.
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { KafkalakeError, oneLine, wrap } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { withRetry } from '../lib/retry.js';
import type { RunRecord } from './job.js';

export const HISTORY_KEY = '_state/scheduler/history.json';

export interface JobHistory {
  /** newest first */
  runs: RunRecord[];
  skipped: number;
}

export interface History {
  version: 1;
  updated: string;
  jobs: Record<string, JobHistory>;
}

export interface HistoryStore {
  /** where it lives, for messages */
  where: string;
  load(): Promise<History>;
  save(h: History): Promise<void>;
}

export const emptyHistory = (): History => ({ version: 1, updated: new Date(0).toISOString(), jobs: {} });

/** Add a run (newest first), keeping at most `keep` per job. Returns a new History. */
export function addRun(h: History, run: RunRecord, keep: number): History {
  const cur = h.jobs[run.job] ?? { runs: [], skipped: 0 };
  return { ...h, updated: new Date().toISOString(), jobs: { ...h.jobs, [run.job]: { ...cur, runs: [run, ...cur.runs].slice(0, keep) } } };
}

export function addSkip(h: History, job: string): History {
  const cur = h.jobs[job] ?? { runs: [], skipped: 0 };
  return { ...h, updated: new Date().toISOString(), jobs: { ...h.jobs, [job]: { ...cur, skipped: cur.skipped + 1 } } };
}

export function lastRun(h: History, job: string): RunRecord | undefined {
  return h.jobs[job]?.runs[0];
}

function parseHistory(text: string, where: string): History {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new KafkalakeError(`job history is not JSON: ${oneLine(err)}`, { where });
  }
  const h = v as Partial<History> | null;
  if (!h || typeof h !== 'object' || h.version !== 1 || typeof h.jobs !== 'object' || h.jobs === null) {
    throw new KafkalakeError('job history has an unknown shape (expected {"version":1,"jobs":{...}})', { where });
  }
  for (const [name, j] of Object.entries(h.jobs)) {
    if (!Array.isArray(j?.runs)) throw new KafkalakeError(`job history of "${name}" has no runs list`, { where });
  }
  return h as History;
}

const isMissing = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
};

export function s3History(s3: S3Client, bucket: string, log?: Logger): HistoryStore {
  const where = `s3://${bucket}/${HISTORY_KEY}`;
  return {
    where,
    async load() {
      let text: string;
      try {
        text = await withRetry(
          async () => {
            const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: HISTORY_KEY }));
            return (await r.Body?.transformToString('utf8')) ?? '';
          },
          { what: 'reading the job history', where },
        );
      } catch (err) {
        if (isMissing(err)) return emptyHistory();
        throw wrap(err, where, 'reading the job history failed');
      }
      try {
        return parseHistory(text, where);
      } catch (err) {
        // a damaged history must not stop the scheduler: start a fresh one, say so loudly
        log?.error('job history unreadable, starting a fresh one', { where, error: oneLine(err) });
        return emptyHistory();
      }
    },
    async save(h) {
      await withRetry(
        () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: HISTORY_KEY, Body: JSON.stringify(h, null, 1), ContentType: 'application/json' })),
        { what: 'writing the job history', where },
      );
    },
  };
}

export function memoryHistory(initial: History = emptyHistory()): HistoryStore & { current(): History } {
  let h = structuredClone(initial);
  return {
    where: 'memory',
    load: () => Promise.resolve(structuredClone(h)),
    save: (x) => {
      h = structuredClone(x);
      return Promise.resolve();
    },
    current: () => h,
  };
}
