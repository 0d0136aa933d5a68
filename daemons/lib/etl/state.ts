// What both ETL modes share about state in the bucket:
//   _state/<job>.json   the bookmark: per table, the staging objects already merged into the lake.
//                       Written only after the lake files and the DLQ objects of a run are in place.
//   _state/<job>.lock   the run lock: created with a conditional PUT (If-None-Match: *), so two runs
//                       never work at once; it carries an expiry, and a lock whose owner is a dead
//                       process on this host, or whose expiry has passed, is taken over (If-Match).
// The PySpark job (glue/etl_job.py) reads and writes the same bookmark format.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { KafkalakeError } from '../errors.js';
import type { TableSpec } from './spec.js';
import { type ObjectStore, PreconditionError, type StoredObject } from './store.js';

export interface Bookmark {
  version: 1;
  job: string;
  updatedAt: string;
  tables: Record<string, { merged: string[] }>;
}

export const bookmarkKey = (job: string) => `_state/${job}.json`;
export const lockKey = (job: string) => `_state/${job}.lock`;

/** Staging object names: <topic>+<partition>+<first_offset:020d>+<last_offset:020d>.jsonl.gz */
export const STAGING_OBJECT = /\/dt=\d{4}-\d{2}-\d{2}\/[^/]+\+\d+\+\d{20}\+\d{20}\.jsonl\.gz$/;

export async function readBookmark(store: ObjectStore, job: string): Promise<Bookmark> {
  const got = await store.get(bookmarkKey(job));
  if (!got) return { version: 1, job, updatedAt: '', tables: {} };
  let b: Bookmark;
  try {
    b = JSON.parse(got.body.toString('utf8')) as Bookmark;
  } catch (err) {
    throw new KafkalakeError(`the ETL bookmark ${store.where(bookmarkKey(job))} is not JSON (${(err as Error).message}); fix or delete it to re-merge everything`, { where: store.where(bookmarkKey(job)) });
  }
  if (b.version !== 1 || typeof b.tables !== 'object') throw new KafkalakeError(`the ETL bookmark ${store.where(bookmarkKey(job))} has an unknown format (version must be 1)`, { where: store.where(bookmarkKey(job)) });
  return b;
}

export async function writeBookmark(store: ObjectStore, b: Bookmark, now = new Date()): Promise<void> {
  const tables = Object.fromEntries(Object.entries(b.tables).sort(([a], [c]) => a.localeCompare(c)).map(([t, v]) => [t, { merged: [...new Set(v.merged)].sort() }]));
  const out: Bookmark = { version: 1, job: b.job, updatedAt: now.toISOString(), tables };
  await store.put(bookmarkKey(b.job), Buffer.from(`${JSON.stringify(out, null, 1)}\n`));
}

/** The staging objects of a table not yet merged, in key order (dt, then topic+partition+offsets). */
export async function unmergedObjects(store: ObjectStore, spec: TableSpec, b: Bookmark): Promise<StoredObject[]> {
  const merged = new Set(b.tables[spec.table]?.merged ?? []);
  const all = await store.list(spec.source.prefix);
  return all.filter((o) => STAGING_OBJECT.test(o.key) && !merged.has(o.key)).sort((a, c) => (a.key < c.key ? -1 : 1));
}

/** Lake file names, deterministic from the partition and the file's place in it. */
export function partitionDir(spec: TableSpec, values: Record<string, string | number>): string {
  return `${spec.target.prefix}${spec.partitionBy.map((p) => `${p}=${String(values[p])}`).join('/')}/`;
}
export const partFile = (n: number) => `part-${String(n).padStart(5, '0')}.snappy.parquet`;

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
