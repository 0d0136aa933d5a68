// Where a partition resumes: S3 is the source of truth (as Kafka Connect's S3 sink recovers from object
// names). List the dt= folders of the topic, newest first, and in the newest one that has objects of the
// partition take the highest last_offset. The same for the DLQ: a dead-letter object beyond the last
// staging object is the trace of a crash between the two PUTs of one batch; the consumer then closes its
// next batch at exactly that offset, so the DLQ object is rewritten under the same name (no duplicate).
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { wrap } from '../lib/errors.js';
import { isFolderMarker } from '../lib/etl/store.js';
import { type ObjectName, parseKey, partitionPrefix, topicPrefix } from './naming.js';

export interface Position {
  /** highest offset in staging; undefined when the partition has nothing staged */
  staged: number | undefined;
  /** close the next batch at this offset (an orphan DLQ object ends there) */
  closeAt: number | undefined;
}

export interface RecoveryDeps {
  s3: S3Client;
  bucket: string;
  prefix: string;
}

async function listAll(deps: RecoveryDeps, prefix: string, delimiter?: string): Promise<{ keys: string[]; prefixes: string[] }> {
  const keys: string[] = [];
  const prefixes: string[] = [];
  try {
    for await (const page of paginateListObjectsV2({ client: deps.s3 }, { Bucket: deps.bucket, Prefix: prefix, ...(delimiter ? { Delimiter: delimiter } : {}) })) {
      for (const o of page.Contents ?? []) if (o.Key && !isFolderMarker(o.Key)) keys.push(o.Key);
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) prefixes.push(p.Prefix);
    }
  } catch (err) {
    throw wrap(err, `s3://${deps.bucket}/${prefix}`, `cannot list s3://${deps.bucket}/${prefix}`);
  }
  return { keys, prefixes };
}

/** the dt values of a topic's folders, newest first */
export async function dtFolders(deps: RecoveryDeps, topic: string, dlq = false): Promise<string[]> {
  const { prefixes } = await listAll(deps, topicPrefix(deps.prefix, topic, dlq), '/');
  return prefixes
    .map((p) => /dt=(\d{4}-\d{2}-\d{2})\/$/.exec(p)?.[1])
    .filter((d): d is string => d !== undefined)
    .sort()
    .reverse();
}

/** the object of the partition with the highest last offset, searching the newest dt folders first */
export async function newestObject(deps: RecoveryDeps, topic: string, partition: number, dlq = false): Promise<ObjectName | undefined> {
  for (const dt of await dtFolders(deps, topic, dlq)) {
    const { keys } = await listAll(deps, partitionPrefix(deps.prefix, topic, dt, partition, dlq));
    let best: ObjectName | undefined;
    for (const k of keys) {
      const n = parseKey(deps.prefix, k);
      // the ETL's dead letters repeat the range of the staging object they came from: not a position
      if (n && n.stage === 'consumer' && n.partition === partition && (!best || n.last > best.last)) best = n;
    }
    if (best) return best;
  }
  return undefined;
}

export async function findPosition(deps: RecoveryDeps, topic: string, partition: number): Promise<Position> {
  const [staged, dead] = await Promise.all([newestObject(deps, topic, partition), newestObject(deps, topic, partition, true)]);
  if (!dead || (staged && dead.last <= staged.last)) return { staged: staged?.last, closeAt: undefined };
  // a dead-letter object past the last staging object: the batch that wrote it never wrote its staging
  // object; resume at its first offset and close at its last
  if (!staged || dead.first === staged.last + 1) return { staged: dead.first - 1, closeAt: dead.last };
  return { staged: staged.last, closeAt: undefined };
}
