// The bucket as the crawler, the local SQL engine and the reports see it: list, whole or ranged
// reads, writes and deletes through the S3 client (the twin in local mode). Keys are bucket-relative.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { DeleteObjectsCommand, GetObjectCommand, paginateListObjectsV2, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { wrap } from '../errors.js';
import { isFolderMarker } from '../etl/store.js';

export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
}

export interface Bucket {
  name: string;
  uri(key: string): string;
  /** every object under the prefix */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** one level: the objects directly in the folder and its subfolders (prefixes ending in "/") */
  listFolder(prefix: string): Promise<{ objects: ObjectInfo[]; folders: string[] }>;
  /** the bytes of a range (inclusive), or the whole object; undefined if there is no such object */
  get(key: string, range?: { start: number; end: number } | { suffix: number }): Promise<Buffer | undefined>;
  download(key: string, file: string): Promise<void>;
  put(key: string, body: Buffer | string, contentType?: string): Promise<void>;
  deleteKeys(keys: string[]): Promise<void>;
}

const missing = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
};

const rangeHeader = (r: { start: number; end: number } | { suffix: number }) =>
  'suffix' in r ? `bytes=-${r.suffix}` : `bytes=${r.start}-${r.end}`;

export function bucketOf(s3: S3Client, name: string): Bucket {
  const uri = (key: string) => `s3://${name}/${key}`;
  async function listing(prefix: string, delimiter?: string): Promise<{ objects: ObjectInfo[]; folders: string[] }> {
    const objects: ObjectInfo[] = [];
    const folders: string[] = [];
    try {
      for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: name, Prefix: prefix, ...(delimiter ? { Delimiter: delimiter } : {}) })) {
        for (const o of page.Contents ?? []) if (o.Key && !isFolderMarker(o.Key)) objects.push({ key: o.Key, size: o.Size ?? 0, etag: (o.ETag ?? '').replace(/"/g, '') });
        for (const p of page.CommonPrefixes ?? []) if (p.Prefix) folders.push(p.Prefix);
      }
    } catch (err) {
      throw wrap(err, uri(prefix), 'cannot list objects');
    }
    return { objects, folders };
  }
  return {
    name,
    uri,
    list: async (prefix) => (await listing(prefix)).objects,
    listFolder: (prefix) => listing(prefix, '/'),
    async get(key, range) {
      try {
        const r = await s3.send(new GetObjectCommand({ Bucket: name, Key: key, ...(range ? { Range: rangeHeader(range) } : {}) }));
        return Buffer.from(await r.Body!.transformToByteArray());
      } catch (err) {
        if (missing(err)) return undefined;
        throw wrap(err, uri(key), 'cannot read object');
      }
    },
    async download(key, file) {
      // a unique temporary name: two processes filling the same cache must not share one (the rename is atomic)
      const tmp = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.part`;
      try {
        const r = await s3.send(new GetObjectCommand({ Bucket: name, Key: key }));
        await pipeline(r.Body as Readable, createWriteStream(tmp));
        await rename(tmp, file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw wrap(err, uri(key), 'cannot download object');
      }
    },
    async put(key, body, contentType) {
      try {
        await s3.send(new PutObjectCommand({ Bucket: name, Key: key, Body: body, ...(contentType ? { ContentType: contentType } : {}) }));
      } catch (err) {
        throw wrap(err, uri(key), 'cannot write object');
      }
    },
    async deleteKeys(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const chunk = keys.slice(i, i + 1000);
        try {
          await s3.send(new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }));
        } catch (err) {
          throw wrap(err, uri(chunk[0] ?? ''), 'cannot delete objects');
        }
      }
    },
  };
}

/** "s3://bucket/a/b/" → { bucket, key: "a/b/" } */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const m = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(uri);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}

/** Run fn over items, n at a time. */
export async function pool<T>(items: readonly T[], n: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}
