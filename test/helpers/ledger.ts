// Reading the pipeline's outcome back, for the tests that hold it to "every record once": the topic
// (which offsets hold a good record), the lake's current files (the (_partition, _offset) of each row),
// the acknowledged ranges the producer logged, and the comparison of the three. The chaos test and the
// multi-host test's probe (test/ansible/cluster-probe.ts) share it.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Kafka } from 'kafkajs';
import { toLine } from '../../daemons/consumer/records.js';
import { pool } from '../../daemons/lib/catalog/objects.js';
import { currentLakeFiles, manifestValues, readManifest } from '../../daemons/lib/etl/lake.js';
import { loadSpecs } from '../../daemons/lib/etl/spec.js';
import { s3Store } from '../../daemons/lib/etl/store.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { unique } from './stack.js';

/**
 * Per partition, one byte per offset below the end: 0 absent, 1 a good record, 2 a bad one, 3 a good record
 * superseded: a later record of the same partition carries its business key (the lake keeps that one).
 */
export type OffsetMap = Map<number, Uint8Array>;

export const SUPERSEDED = 3;

/**
 * Every record below `ends`, flagged. With `keyOf` (a record's business key, from its value), a record whose
 * key comes again later in its partition is flagged SUPERSEDED: a producer restarted by systemd replays its
 * source from the start, and the lake then holds one row per key, the latest (exactly once by business key).
 */
export async function readTopic(kafka: Kafka, topic: string, ends: Map<number, number>, maxRecordBytes: number, keyOf?: (value: Buffer) => string | undefined): Promise<OffsetMap> {
  const out: OffsetMap = new Map([...ends].map(([p, end]) => [p, new Uint8Array(end)]));
  const left = new Set([...ends].filter(([, end]) => end > 0).map(([p]) => p));
  /** partition + business key → the latest offset seen */
  const latest = new Map<string, number>();
  if (left.size === 0) return out;
  const consumer = kafka.consumer({ groupId: unique('chaos-readback'), maxBytesPerPartition: 4 * 1048576 });
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const p = batch.partition;
        const flags = out.get(p);
        const end = ends.get(p) ?? 0;
        for (const m of batch.messages) {
          const off = Number(m.offset);
          if (!flags || off >= end) continue;
          flags[off] = toLine(topic, p, m, maxRecordBytes).ok ? 1 : 2;
          const key = flags[off] === 1 && keyOf && m.value ? keyOf(m.value) : undefined;
          if (key !== undefined) {
            const k = `${p}\u0000${key}`;
            const before = latest.get(k);
            if (before !== undefined && before < off) flags[before] = SUPERSEDED;
            if (before === undefined || before < off) latest.set(k, off);
          }
          if (off === end - 1) left.delete(p);
        }
        if (left.size === 0) done();
        return Promise.resolve();
      },
    });
    // the bound's timer is cleared once the read is done: left pending, it kept a process that had read the
    // topic alive to the end of the 180 s (the cluster test's probe: 3 minutes per ledger)
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`reading the topic back: partitions ${[...left].join(', ')} not read to their end in 180 s`)), 180_000);
    });
    await Promise.race([finished, bound]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return out;
}

export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/**
 * The lake's (_partition, _offset) of every row of its current files (the manifests' locations: what a
 * reader following the pointers reads; retired generations are not the lake), downloaded from the twin.
 */
/** The lake's rows as its manifests count them (no data file read): a cheap "has the lake caught up". */
/** Every lake partition's current generation, by its manifest (one GET each, no Parquet read). */
export async function lakeManifests(s3: S3Client, bucket: string): Promise<Array<{ location: string; rows: number; files: number }>> {
  const spec = loadSpecs(path.join(PROJECT_ROOT, 'glue/tables'))[0]!;
  const store = s3Store(s3, bucket);
  const out: Array<{ location: string; rows: number; files: number }> = [];
  for (const o of await store.list(`_state/lake/${spec.table}/`)) {
    const values = manifestValues(spec, o.key);
    const m = values && (await readManifest(store, spec, values));
    if (m) out.push({ location: m.location, rows: m.files.reduce((n, f) => n + f.rows, 0), files: m.files.length });
  }
  return out;
}

/** The lake's rows by its manifests */
export async function lakeManifestRows(s3: S3Client, bucket: string): Promise<number> {
  return (await lakeManifests(s3, bucket)).reduce((n, m) => n + m.rows, 0);
}

export async function readLake(s3: S3Client, bucket: string, dir: string): Promise<{ files: number; partitions: number[]; offsets: number[]; otherTopic: number }> {
  const spec = loadSpecs(path.join(PROJECT_ROOT, 'glue/tables'))[0]!;
  const keys = await currentLakeFiles(s3Store(s3, bucket), spec);
  await mkdir(dir, { recursive: true });
  await pool(keys, 8, async (key, i) => {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    await writeFile(path.join(dir, `${i}.parquet`), await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  });
  if (keys.length === 0) return { files: 0, partitions: [], offsets: [], otherTopic: 0 };
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const glob = `'${path.join(dir, '*.parquet').replace(/'/g, "''")}'`;
    const rows = await conn.runAndReadAll(`SELECT "_partition"::INTEGER AS p, "_offset"::INTEGER AS o FROM read_parquet(${glob})`);
    const [partitions, offsets] = rows.getColumnsJS() as [number[], number[]];
    const other = await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet(${glob}) WHERE "_topic" <> 'stock_market_data'`);
    return { files: keys.length, partitions, offsets, otherTopic: Number(other.getRowObjectsJS()[0]?.n ?? 0) };
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

export interface Acked {
  partition: number;
  baseOffset: number;
  count: number;
}

export interface Ledger {
  /** good records in the topic */
  good: number;
  /** offsets below the end that hold no record (transaction markers, compaction) */
  gaps: string[];
  /** good records not in the lake, and in it more than once */
  missing: string[];
  duplicates: string[];
  /** lake rows whose (partition, offset) is no good record of the topic */
  notInTopic: string[];
  /** good records superseded by a later one of the same key (expected absent from the lake) */
  superseded: number;
  /** lake rows of a superseded record (its key's older version kept: a stale row) */
  stale: string[];
  ackedRecords: number;
  /** acknowledged records not in the lake */
  ackedLost: string[];
}

/** The topic, the lake and the acknowledged ranges held against each other, record by record. */
export function compareLedger(topic: OffsetMap, lake: { partitions: number[]; offsets: number[] }, acked: Acked[]): Ledger {
  const count: OffsetMap = new Map([...topic].map(([q, flags]) => [q, new Uint8Array(flags.length)]));
  const notInTopic: string[] = [];
  const stale: string[] = [];
  let superseded = 0;
  for (let i = 0; i < lake.offsets.length; i++) {
    const q = lake.partitions[i] as number;
    const o = lake.offsets[i] as number;
    const c = count.get(q);
    const flag = topic.get(q)?.[o];
    if (flag === SUPERSEDED) stale.push(`${q}:${o}`);
    else if (!c || o >= c.length || flag !== 1) notInTopic.push(`${q}:${o}`);
    else if (c[o]! < 255) c[o]!++;
  }
  const missing: string[] = [];
  const duplicates: string[] = [];
  const gaps: string[] = [];
  let good = 0;
  for (const [q, flags] of topic) {
    const c = count.get(q) as Uint8Array;
    for (let o = 0; o < flags.length; o++) {
      if (flags[o] === 0) gaps.push(`${q}:${o}`);
      if (flags[o] === SUPERSEDED) superseded++;
      if (flags[o] !== 1) continue;
      good++;
      if (c[o] === 0) missing.push(`${q}:${o}`);
      else if (c[o]! > 1) duplicates.push(`${q}:${o}×${c[o]}`);
    }
  }
  const ackedLost: string[] = [];
  let ackedRecords = 0;
  for (const a of acked) {
    for (let o = a.baseOffset; o < a.baseOffset + a.count; o++) {
      ackedRecords++;
      if ((count.get(a.partition)?.[o] ?? 0) === 0 && topic.get(a.partition)?.[o] !== SUPERSEDED) ackedLost.push(`${a.partition}:${o}`);
    }
  }
  return { good, gaps, missing, duplicates, notInTopic, superseded, stale, ackedRecords, ackedLost };
}

/** The `acked` debug lines of a producer log (JSON lines; others are skipped). */
export function ackedFromLog(text: string): Acked[] {
  const out: Acked[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('"acked"')) continue;
    try {
      const l = JSON.parse(line) as { message?: string; partition?: number; baseOffset?: number | string; count?: number };
      if (l.message === 'acked') out.push({ partition: Number(l.partition), baseOffset: Number(l.baseOffset), count: Number(l.count) });
    } catch {
      // a line cut by the journal: not an acked line
    }
  }
  return out;
}
