// Where the ETL reads staging and writes the lake: an S3 bucket (AWS or the local twin) or a local
// directory (benchmarks, and the PySpark equivalence test, which runs the Glue script on file paths).
// Keys are bucket-relative ("staging/...", "datalake/...", "_state/...") in both.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  paginateListObjectsV2,
  type ListObjectsV2CommandInput,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { KafkalakeError, wrap } from '../errors.js';
import { withRetry } from '../retry.js';

/**
 * Hadoop's S3 filesystems (EMRFS on Glue, s3n) write an empty `<dir>_$folder$` object when asked to make
 * a directory. S3 has no directories: such keys are no data, and every listing of ours passes over them.
 */
export const isFolderMarker = (key: string): boolean => key.endsWith('_$folder$');

export interface StoredObject {
  key: string;
  size: number;
}

export interface PutOptions {
  /** '*': fail with a PreconditionError if the key exists */
  ifNoneMatch?: '*';
  /** fail with a PreconditionError unless the object's ETag is this */
  ifMatch?: string;
}

export class PreconditionError extends KafkalakeError {
  constructor(where: string, cause?: unknown) {
    super('the object changed or exists (conditional write refused)', { where, ...(cause !== undefined ? { cause } : {}) });
    this.name = 'PreconditionError';
  }
}

export interface ObjectStore {
  /** "s3://bucket/key" or the file path, for messages */
  where(key: string): string;
  /** the root as the PySpark job sees it: s3://bucket/ or file:///dir/ */
  root: string;
  /** the objects under prefix, in key order; with startAfter only the keys after it */
  list(prefix: string, startAfter?: string): Promise<StoredObject[]>;
  /** the distinct key prefixes under prefix up to and including the next delimiter (S3 CommonPrefixes) */
  prefixes(prefix: string, delimiter: string, startAfter?: string): Promise<string[]>;
  /** the object's bytes and ETag; undefined if there is none */
  get(key: string): Promise<{ body: Buffer; etag: string } | undefined>;
  download(key: string, file: string): Promise<void>;
  put(key: string, body: Buffer, opts?: PutOptions): Promise<{ etag: string }>;
  upload(key: string, file: string): Promise<void>;
  /** a copy of the object under another key (S3 CopyObject: server-side, no bytes through us) */
  copy(from: string, to: string): Promise<void>;
  delete(key: string, opts?: { ifMatch?: string }): Promise<void>;
}

function isPrecondition(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'PreconditionFailed' || e?.$metadata?.httpStatusCode === 412;
}

/**
 * S3's 409 ConditionalRequestConflict: a conditional write raced another operation on the key. PutObject's
 * reference (If-None-Match, If-Match): "If a conflicting operation occurs during the upload S3 returns a 409
 * ConditionalRequestConflict response. On a 409 failure you should retry the upload." The twin never answers
 * it (moto serialises requests), so test/integration/store-conflict.test.ts injects it in front of the twin.
 */
function isConflict(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'ConditionalRequestConflict' || e?.Code === 'ConditionalRequestConflict' || e?.$metadata?.httpStatusCode === 409;
}

/** Retries of a conditional request S3 answered 409 (each retry is still conditional, so it is safe). */
export const CONFLICT_RETRIES = { retries: 4, minTimeoutMs: 100, maxTimeoutMs: 2_000 } as const;

/**
 * Send a conditional request, retrying it (bounded) while S3 answers 409 ConditionalRequestConflict; a
 * conflict that outlasts the retries is a lost race (PreconditionError): the caller re-reads and decides.
 * Any other failure is returned to the caller's own handling untouched (the SDK already retried it).
 */
async function conditional<T>(where: string, send: () => Promise<T>): Promise<T> {
  let other: { err: unknown } | undefined;
  try {
    return await withRetry(
      async () => {
        try {
          return await send();
        } catch (err) {
          if (isConflict(err)) throw new KafkalakeError('S3 answered 409 ConditionalRequestConflict', { where, retriable: true, cause: err });
          other = { err };
          throw new KafkalakeError('not a conflict', { where, retriable: false, cause: err });
        }
      },
      { what: 'a conditional write S3 found in conflict', where, ...CONFLICT_RETRIES },
    );
  } catch (err) {
    if (other) throw other.err;
    throw new PreconditionError(where, err);
  }
}

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

export function s3Store(s3: S3Client, bucket: string): ObjectStore {
  const where = (key: string) => `s3://${bucket}/${key}`;
  async function pages(input: Omit<ListObjectsV2CommandInput, 'Bucket' | 'ContinuationToken'>, each: (page: ListObjectsV2CommandOutput) => void): Promise<void> {
    try {
      for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, ...input })) each(page);
    } catch (err) {
      throw wrap(err, where(input.Prefix ?? ''), 'cannot list');
    }
  }
  return {
    where,
    root: `s3://${bucket}/`,
    async list(prefix, startAfter) {
      const out: StoredObject[] = [];
      await pages({ Prefix: prefix, ...(startAfter ? { StartAfter: startAfter } : {}) }, (page) => {
        for (const o of page.Contents ?? []) if (o.Key && !isFolderMarker(o.Key)) out.push({ key: o.Key, size: o.Size ?? 0 });
      });
      return out;
    },
    async prefixes(prefix, delimiter, startAfter) {
      const out: string[] = [];
      await pages({ Prefix: prefix, Delimiter: delimiter, ...(startAfter ? { StartAfter: startAfter } : {}) }, (page) => {
        for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix);
      });
      return out;
    },
    async get(key) {
      try {
        const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const body = Buffer.from(await r.Body!.transformToByteArray());
        return { body, etag: r.ETag ?? '' };
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw wrap(err, where(key), 'cannot read');
      }
    },
    async download(key, file) {
      try {
        const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        await pipeline(r.Body as Readable, createWriteStream(file));
      } catch (err) {
        throw wrap(err, where(key), 'cannot download');
      }
    },
    async put(key, body, opts = {}) {
      const send = () =>
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ...(opts.ifNoneMatch ? { IfNoneMatch: opts.ifNoneMatch } : {}),
            ...(opts.ifMatch ? { IfMatch: opts.ifMatch } : {}),
          }),
        );
      try {
        const r = opts.ifNoneMatch || opts.ifMatch ? await conditional(where(key), send) : await send();
        return { etag: r.ETag ?? '' };
      } catch (err) {
        if (err instanceof PreconditionError) throw err;
        if (isPrecondition(err) || (opts.ifMatch && isMissing(err))) throw new PreconditionError(where(key));
        throw wrap(err, where(key), 'cannot write');
      }
    },
    async upload(key, file) {
      await this.put(key, await readFile(file));
    },
    async copy(from, to) {
      try {
        await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: `${bucket}/${from.split('/').map(encodeURIComponent).join('/')}` }));
      } catch (err) {
        throw wrap(err, where(from), `cannot copy to ${where(to)}`);
      }
    },
    async delete(key, opts = {}) {
      const send = () => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, ...(opts.ifMatch ? { IfMatch: opts.ifMatch } : {}) }));
      try {
        await (opts.ifMatch ? conditional(where(key), send) : send());
      } catch (err) {
        if (err instanceof PreconditionError) throw err;
        if (isPrecondition(err)) throw new PreconditionError(where(key));
        if (isMissing(err)) return;
        throw wrap(err, where(key), 'cannot delete');
      }
    },
  };
}

const etagOf = (body: Buffer) => `"${createHash('md5').update(body).digest('hex')}"`;

/** A directory as a bucket: keys are relative paths; writes go to a temp file and are renamed into place. */
export function dirStore(dir: string): ObjectStore {
  const root = path.resolve(dir);
  const file = (key: string) => path.join(root, ...key.split('/'));
  const where = (key: string) => file(key);
  async function walk(d: string, rel: string, out: StoredObject[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(path.join(d, e.name), r, out);
      else if (e.isFile() && !isFolderMarker(r)) out.push({ key: r, size: (await stat(path.join(d, e.name))).size });
    }
  }
  const store: ObjectStore = {
    where,
    root: `file://${root}/`,
    async list(prefix, startAfter) {
      const out: StoredObject[] = [];
      // walk from the deepest directory the prefix names, then filter by the whole prefix
      const slash = prefix.lastIndexOf('/');
      const base = slash >= 0 ? prefix.slice(0, slash) : '';
      await walk(base ? file(base) : root, base, out);
      return out.filter((o) => o.key.startsWith(prefix) && (startAfter === undefined || o.key > startAfter)).sort((a, b) => (a.key < b.key ? -1 : 1));
    },
    async prefixes(prefix, delimiter, startAfter) {
      const found = new Set<string>();
      for (const o of await store.list(prefix, startAfter)) {
        const i = o.key.indexOf(delimiter, prefix.length);
        if (i >= 0) found.add(o.key.slice(0, i + delimiter.length));
      }
      return [...found].sort();
    },
    async get(key) {
      try {
        const body = await readFile(file(key));
        return { body, etag: etagOf(body) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw wrap(err, where(key), 'cannot read');
      }
    },
    async download(key, to) {
      await writeFile(to, await readFile(file(key)));
    },
    async put(key, body, opts = {}) {
      const f = file(key);
      await mkdir(path.dirname(f), { recursive: true });
      if (opts.ifNoneMatch) {
        try {
          const h = await open(f, 'wx');
          await h.writeFile(body);
          await h.close();
          return { etag: etagOf(body) };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new PreconditionError(where(key));
          throw wrap(err, where(key), 'cannot write');
        }
      }
      if (opts.ifMatch) {
        const cur = await store.get(key);
        if (!cur || cur.etag !== opts.ifMatch) throw new PreconditionError(where(key));
      }
      const tmp = `${f}.tmp-${process.pid}`;
      await writeFile(tmp, body);
      await rename(tmp, f);
      return { etag: etagOf(body) };
    },
    async upload(key, from) {
      await store.put(key, await readFile(from));
    },
    async copy(from, to) {
      const f = file(to);
      await mkdir(path.dirname(f), { recursive: true });
      const tmp = `${f}.tmp-${process.pid}`;
      try {
        await copyFile(file(from), tmp);
      } catch (err) {
        throw wrap(err, where(from), `cannot copy to ${where(to)}`);
      }
      await rename(tmp, f);
    },
    async delete(key, opts = {}) {
      if (opts.ifMatch) {
        const cur = await store.get(key);
        if (cur && cur.etag !== opts.ifMatch) throw new PreconditionError(where(key));
      }
      await rm(file(key), { force: true });
    },
  };
  return store;
}

/** The calls a run made on its store, per kind (list covers prefixes), and the time spent waiting on them, summed over the calls. */
export type StoreCalls = Record<'list' | 'get' | 'put' | 'copy' | 'delete', { calls: number; ms: number }>;

/**
 * A store that times every call it passes on: what part of a run is the object store's (in the soak,
 * the AWS twin's LISTs grow with the bucket; S3's do not).
 */
export function timedStore(store: ObjectStore): { store: ObjectStore; calls: () => StoreCalls } {
  const calls: StoreCalls = { list: { calls: 0, ms: 0 }, get: { calls: 0, ms: 0 }, put: { calls: 0, ms: 0 }, copy: { calls: 0, ms: 0 }, delete: { calls: 0, ms: 0 } };
  const timed =
    <A extends unknown[], R>(kind: keyof StoreCalls, f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const t0 = performance.now();
      try {
        return await f(...a);
      } finally {
        calls[kind].calls++;
        calls[kind].ms += performance.now() - t0;
      }
    };
  return {
    store: {
      where: (key) => store.where(key),
      root: store.root,
      list: timed('list', (p: string, s?: string) => store.list(p, s)),
      prefixes: timed('list', (p: string, d: string, s?: string) => store.prefixes(p, d, s)),
      get: timed('get', (k: string) => store.get(k)),
      download: timed('get', (k: string, f: string) => store.download(k, f)),
      put: timed('put', (k: string, b: Buffer, o?: PutOptions) => store.put(k, b, o)),
      upload: timed('put', (k: string, f: string) => store.upload(k, f)),
      copy: timed('copy', (a: string, b: string) => store.copy(a, b)),
      delete: timed('delete', (k: string, o?: { ifMatch?: string }) => store.delete(k, o)),
    },
    calls: () => structuredClone(calls),
  };
}

/**
 * "S3: 9 LIST 0.41 s, 14 GET 0.12 s, …": the calls a run made and the time spent waiting on them, summed
 * over the calls. A run's LISTs follow one another, so theirs is wall time; its GETs and PUTs overlap (up to
 * its transfer concurrency at once), so theirs can exceed the run's duration.
 */
export function describeStoreCalls(c: StoreCalls): string {
  const parts = (Object.entries(c) as [keyof StoreCalls, StoreCalls[keyof StoreCalls]][]).filter(([, v]) => v.calls > 0).map(([k, v]) => `${v.calls} ${k.toUpperCase()} ${(v.ms / 1000).toFixed(2)} s`);
  return `S3: ${parts.join(', ') || 'no calls'}`;
}
