// What both ETL modes share about state in the bucket:
//   _state/<job>.json   the bookmark: per table, how far the staging objects are merged into the lake.
//                       Written only after the lake files and the DLQ objects of a run are in place.
//   _state/<job>.lock   the run lock: created with a conditional PUT (If-None-Match: *), so two runs
//                       never work at once; it carries an expiry, and a lock whose owner is a dead
//                       process on this host, or whose expiry has passed, is taken over (If-Match).
// The PySpark job (glue/etl_job.py) reads and writes the same bookmark format.
//
// The bookmark is a high-water mark, not a list of every object: the consumer stages each Kafka partition
// in offset order and resumes after the highest offset already staged (DESIGN.md), so "merged" is, per
// partition, every object up to the newest one merged. A run lists only what can be new: the dt=
// prefixes from `listFrom` (a day before the previous listing, the margin for a PUT that lands late),
// and in each, per partition, the keys from the newest merged object's first offset on (S3 StartAfter).
// Its cost follows the new objects, not the history. An object that overlaps the newest merged one (a
// revoked consumer's late PUT) is still merged when it holds offsets beyond it; the merge drops what
// is already in the lake.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { KafkalakeError } from '../errors.js';
import type { TableSpec } from './spec.js';
import { type ObjectStore, PreconditionError, type StoredObject } from './store.js';

/** Per Kafka partition ("<topic>+<partition>"): the offsets of the newest staging object merged. */
export type PartitionMarks = Record<string, { first: number; last: number }>;

export interface TableMark {
  /** the first staging dt= (UTC date) the next run lists; '' lists them all */
  listFrom: string;
  partitions: PartitionMarks;
}

export interface Bookmark {
  version: 2;
  job: string;
  updatedAt: string;
  tables: Record<string, TableMark>;
}

export const bookmarkKey = (job: string) => `_state/${job}.json`;
export const lockKey = (job: string) => `_state/${job}.lock`;
/** The Glue job's report of its last run of an action (glue/etl_job.py last_run_key): its stdout goes to CloudWatch Logs only. */
export const lastRunKey = (job: string, action: 'etl' | 'compact') => `_state/${job}.last-${action}.json`;

/** Staging object names: <topic>+<partition>+<first_offset:020d>+<last_offset:020d>.jsonl.gz */
export const STAGING_OBJECT = /\/dt=(\d{4}-\d{2}-\d{2})\/([^/]+)\+(\d+)\+(\d{20})\+(\d{20})\.jsonl\.gz$/;

export interface StagingName {
  dt: string;
  /** "<topic>+<partition>", the key of PartitionMarks */
  tp: string;
  first: number;
  last: number;
}

export function parseStagingKey(key: string): StagingName | undefined {
  const m = STAGING_OBJECT.exec(key);
  return m ? { dt: m[1]!, tp: `${m[2]!}+${Number(m[3])}`, first: Number(m[4]), last: Number(m[5]) } : undefined;
}

/** How long before a listing a staging object may have been named and still land after it. */
export const LIST_MARGIN_MS = 86_400_000;

/** Whether the bookmark counts a staging object as merged (the rule the run's listing applies). */
export function isMerged(mark: TableMark | undefined, key: string): boolean {
  const n = parseStagingKey(key);
  if (!n || !mark) return false;
  const w = mark.partitions[n.tp];
  return (mark.listFrom !== '' && n.dt < mark.listFrom) || (w !== undefined && (n.last <= w.last || n.first < w.first));
}

const pad = (n: number) => String(n).padStart(20, '0');

/** The first format: every merged object's key (grew without bound); read and converted. */
interface BookmarkV1 {
  version: 1;
  job: string;
  updatedAt: string;
  tables: Record<string, { merged?: string[] }>;
}

function fromV1(b: BookmarkV1): Bookmark {
  const tables: Record<string, TableMark> = {};
  for (const [t, v] of Object.entries(b.tables)) {
    const mark: TableMark = { listFrom: '', partitions: {} };
    for (const k of v.merged ?? []) advance(mark.partitions, k);
    tables[t] = mark;
  }
  return { version: 2, job: b.job, updatedAt: b.updatedAt, tables };
}

function advance(marks: PartitionMarks, key: string): void {
  const n = parseStagingKey(key);
  if (!n) return;
  const w = marks[n.tp];
  if (!w || n.last > w.last) marks[n.tp] = { first: n.first, last: n.last };
}

export async function readBookmark(store: ObjectStore, job: string): Promise<Bookmark> {
  const got = await store.get(bookmarkKey(job));
  if (!got) return { version: 2, job, updatedAt: '', tables: {} };
  let b: Bookmark | BookmarkV1;
  try {
    b = JSON.parse(got.body.toString('utf8')) as Bookmark | BookmarkV1;
  } catch (err) {
    throw new KafkalakeError(`the ETL bookmark ${store.where(bookmarkKey(job))} is not JSON (${(err as Error).message}); fix or delete it to re-merge everything`, { where: store.where(bookmarkKey(job)) });
  }
  if (typeof b?.tables !== 'object' || b.tables === null || (b.version !== 1 && b.version !== 2)) {
    throw new KafkalakeError(`the ETL bookmark ${store.where(bookmarkKey(job))} has an unknown format (version must be 1 or 2)`, { where: store.where(bookmarkKey(job)) });
  }
  return b.version === 1 ? fromV1(b) : b;
}

/** Record these objects as merged; `listedAt` is when the listing that found them started. */
export function markMerged(b: Bookmark, spec: TableSpec, objects: StoredObject[], listedAt: Date): void {
  const mark = (b.tables[spec.table] ??= { listFrom: '', partitions: {} });
  for (const o of objects) advance(mark.partitions, o.key);
  mark.listFrom = new Date(listedAt.getTime() - LIST_MARGIN_MS).toISOString().slice(0, 10);
}

export async function writeBookmark(store: ObjectStore, b: Bookmark, now = new Date()): Promise<void> {
  const sorted = <T>(o: Record<string, T>) => Object.fromEntries(Object.entries(o).sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0)));
  const tables = sorted(Object.fromEntries(Object.entries(b.tables).map(([t, v]) => [t, { listFrom: v.listFrom, partitions: sorted(v.partitions) }])));
  const out: Bookmark = { version: 2, job: b.job, updatedAt: now.toISOString(), tables };
  await store.put(bookmarkKey(b.job), Buffer.from(`${JSON.stringify(out, null, 1)}\n`));
}

/**
 * The staging objects of a table not yet merged, in key order (dt, then topic+partition+offsets):
 * one listing of the dt= prefixes from listFrom on, then per dt one of its partitions, then per
 * partition the keys from its newest merged object on.
 */
export async function unmergedObjects(store: ObjectStore, spec: TableSpec, b: Bookmark): Promise<StoredObject[]> {
  const mark = b.tables[spec.table];
  const root = spec.source.prefix;
  const dts = (await store.prefixes(root, '/', mark?.listFrom ? `${root}dt=${mark.listFrom}` : undefined)).filter((p) => /\/dt=\d{4}-\d{2}-\d{2}\/$/.test(p));
  const out: StoredObject[] = [];
  for (const dt of dts) {
    for (const part of await store.prefixes(`${dt}${spec.source.topic}+`, '+')) {
      const m = /\+(\d+)\+$/.exec(part);
      if (!m) continue;
      const w = mark?.partitions[`${spec.source.topic}+${Number(m[1])}`];
      for (const o of await store.list(part, w ? `${part}${pad(w.first)}` : undefined)) if (!isMerged(mark, o.key)) out.push(o);
    }
  }
  return out.sort((a, c) => (a.key < c.key ? -1 : 1));
}

/** The DLQ object of the rows of one staging object that broke the table's types. */
export function dlqKey(spec: TableSpec, stagingKey: string): string {
  const m = /\/(dt=[^/]+)\/([^/]+)\.jsonl\.gz$/.exec(stagingKey);
  if (!m) throw new KafkalakeError('not a staging object name', { where: stagingKey });
  return `${spec.dlq.prefix}${m[1]}/${m[2]}.etl.jsonl.gz`;
}

export interface LockBody {
  owner: string;
  host: string;
  pid: number;
  runId: string;
  acquiredAt: string;
  expiresAt: string;
}

export interface Lock {
  body: LockBody;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the job's lock or fail with one line naming its holder and expiry. */
export async function acquireLock(store: ObjectStore, job: string, ttlMs: number, now: () => Date = () => new Date()): Promise<Lock> {
  const key = lockKey(job);
  const t = now();
  const body: LockBody = {
    owner: `${os.hostname()}:${process.pid}`,
    host: os.hostname(),
    pid: process.pid,
    runId: randomUUID(),
    acquiredAt: t.toISOString(),
    expiresAt: new Date(t.getTime() + ttlMs).toISOString(),
  };
  const bytes = Buffer.from(JSON.stringify(body));
  let etag: string;
  try {
    etag = (await store.put(key, bytes, { ifNoneMatch: '*' })).etag;
  } catch (err) {
    if (!(err instanceof PreconditionError)) throw err;
    const cur = await store.get(key);
    if (!cur) return acquireLock(store, job, ttlMs, now); // released meanwhile
    let held: Partial<LockBody> = {};
    try {
      held = JSON.parse(cur.body.toString('utf8')) as LockBody;
    } catch {
      /* an unreadable lock counts as expired */
    }
    const expired = !held.expiresAt || Date.parse(held.expiresAt) <= t.getTime();
    const deadHere = held.host === os.hostname() && typeof held.pid === 'number' && held.pid !== process.pid && !alive(held.pid);
    if (!expired && !deadHere) {
      throw new KafkalakeError(`another ETL run holds the lock ${store.where(key)} (${held.owner ?? '?'}, run ${held.runId ?? '?'}) until ${held.expiresAt ?? '?'}`, { where: store.where(key) });
    }
    try {
      etag = (await store.put(key, bytes, { ifMatch: cur.etag })).etag;
    } catch (e) {
      if (e instanceof PreconditionError) throw new KafkalakeError(`another ETL run took over the stale lock ${store.where(key)} at the same moment`, { where: store.where(key) });
      throw e;
    }
  }
  return {
    body,
    async release() {
      try {
        await store.delete(key, { ifMatch: etag });
      } catch (err) {
        if (!(err instanceof PreconditionError)) throw err; // taken over after expiry: not ours to delete
      }
    },
  };
}
