// Probes of the multi-host test bed, run on its control node (cluster.ts runs this file through nsenter
// into the test bed's network, where the brokers and the AWS twin are): one command, its arguments as
// JSON, the answer as JSON on stdout, a failure as one line on stderr and exit 1.
//   node cluster-probe.js describe '{"brokers":[...],"topic":"t"}'
//   node cluster-probe.js staged   '{"brokers":[...],"topic":"t","endpoint":"http://…","bucket":"b"}'
//   node cluster-probe.js offsets  '{"brokers":[...],"topic":"t"}'            (end offsets)
//   node cluster-probe.js committed '{"brokers":[...],"topic":"t","groupId":"g"}' (the group's offsets)
//   node cluster-probe.js stagedThrough '{"topic":"t","endpoint":"http://…","bucket":"b"}' (by object names)
//   node cluster-probe.js lakeRows '{"endpoint":"http://…","bucket":"b"}'               (rows by the manifests)
//   node cluster-probe.js ledger   '{…staged's, "ackedLog":"/path/producer.log", "upTo":{"0":123,…}}'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { oneLine } from '../../daemons/lib/errors.js';
import { parseKey } from '../../daemons/consumer/naming.js';
import { ackedFromLog, compareLedger, lakeManifestRows, listKeys, readLake, readTopic } from '../helpers/ledger.js';
import { endOffsets, missing, readStaged, s3Client } from './pipeline.js';

interface Args {
  brokers: string[];
  topic: string;
  endpoint?: string;
  bucket?: string;
  /** a file of the producer's log lines (its `acked` lines are the acknowledged ranges) */
  ackedLog?: string;
  /** the consumer group (committed) */
  groupId?: string;
  /** partition → offset: count only the records below it (what was produced before a point in time) */
  upTo?: Record<string, number>;
}

/** The end offsets, or `upTo` where given (never past the end). */
async function bounds(a: Args): Promise<Map<number, number>> {
  const ends = await endOffsets(a.brokers, a.topic);
  if (!a.upTo) return ends;
  return new Map([...ends].map(([p, end]) => [p, Math.min(end, a.upTo?.[String(p)] ?? end)]));
}

/** partition → the group's committed offset (the consumer commits only what it staged: a cheap "staged up to"). */
async function committed(a: Args): Promise<Record<string, number>> {
  const kafka = new Kafka({ clientId: 'cluster-probe', brokers: a.brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 10000, retry: { retries: 2 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId: a.groupId ?? 'kafkalake-staging', topics: [a.topic] });
    return Object.fromEntries((t?.partitions ?? []).map((p) => [String(p.partition), Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

async function offsets(a: Args): Promise<Record<string, number>> {
  return Object.fromEntries([...(await endOffsets(a.brokers, a.topic))].map(([p, o]) => [String(p), o]));
}

export interface Describe {
  brokers: number[];
  controller: number | null;
  partitions: { partition: number; leader: number; replicas: number[]; isr: number[]; offline: boolean }[];
  minInsyncReplicas: number | null;
}

export interface StagedCount {
  /** records in the topic (sum of the high watermarks) */
  inTopic: number;
  rows: number;
  distinct: number;
  missing: number;
  /** staging objects of one partition whose offset ranges overlap (the first few), with their write times */
  overlaps: string[];
}

/** Staging objects of one partition whose ranges overlap: two writers of the partition at once. */
async function overlaps(a: Args): Promise<string[]> {
  const s3 = s3Client(a.endpoint!);
  const objects: Array<{ key: string; p: number; first: number; last: number; at: string }> = [];
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: a.bucket!, Prefix: `staging/${a.topic}/`, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of r.Contents ?? []) {
      const n = o.Key ? parseKey('staging', o.Key) : undefined;
      if (n && n.stage === 'consumer') objects.push({ key: o.Key!.split('/').pop()!, p: n.partition, first: n.first, last: n.last, at: o.LastModified?.toISOString().slice(11, 19) ?? '?' });
    }
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  objects.sort((x, y) => x.p - y.p || x.first - y.first);
  const out: string[] = [];
  for (let i = 1; i < objects.length && out.length < 6; i++) {
    const [x, y] = [objects[i - 1]!, objects[i]!];
    if (x.p === y.p && y.first <= x.last) out.push(`p${x.p} ${x.key} (${x.at}) overlaps ${y.key} (${y.at})`);
  }
  return out;
}

async function describe(a: Args): Promise<Describe> {
  const kafka = new Kafka({ clientId: 'cluster-probe', brokers: a.brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 10000, retry: { retries: 2 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    const meta = await admin.fetchTopicMetadata({ topics: [a.topic] });
    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: a.topic, configNames: ['min.insync.replicas'] }] });
    const mir = configs.resources[0]?.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue;
    return {
      brokers: cluster.brokers.map((b) => b.nodeId).sort((x, y) => x - y),
      controller: cluster.controller,
      partitions: (meta.topics[0]?.partitions ?? [])
        .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: [...p.replicas].sort(), isr: [...p.isr].sort(), offline: p.leader < 0 }))
        .sort((x, y) => x.partition - y.partition),
      minInsyncReplicas: mir === undefined ? null : Number(mir),
    };
  } finally {
    await admin.disconnect();
  }
}

async function staged(a: Args): Promise<StagedCount> {
  if (!a.endpoint || !a.bucket) throw new Error('staged needs endpoint and bucket');
  const ends = await bounds(a);
  const s = await readStaged(s3Client(a.endpoint), a.bucket, a.topic);
  const below = (p: number, o: number) => o < (ends.get(p) ?? 0);
  let rows = 0;
  for (const [p, list] of s.offsets) rows += list.filter((o) => below(p, o)).length;
  const distinct = [...s.offsets].reduce((n, [p, list]) => n + new Set(list.filter((o) => below(p, o))).size, 0);
  return { inTopic: [...ends.values()].reduce((x, y) => x + y, 0), rows, distinct, missing: missing(s, ends), overlaps: rows > distinct ? await overlaps(a) : [] };
}

export interface LedgerCount {
  inTopic: number;
  staged: StagedCount;
  acknowledged: number;
  lakeRows: number;
  /** acknowledged records not in the lake */
  lost: number;
  /** good records in the lake more than once, or staged more than once, or a superseded version kept */
  duplicated: number;
  /** records whose business key a later record carries (a producer restart replays): not expected in the lake */
  superseded: number;
  /** good records of the topic not in the lake */
  missing: number;
  notInTopic: number;
  examples: string[];
  /** how long the probe read each, ms */
  ms: { topic: number; lake: number; staged: number };
}

/** Every record of the topic, staging and the lake, and the acknowledged ranges, held against each other. */
async function ledger(a: Args): Promise<LedgerCount> {
  if (!a.endpoint || !a.bucket) throw new Error('ledger needs endpoint and bucket');
  const kafka = new Kafka({ clientId: 'cluster-probe', brokers: a.brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 30000 });
  const ends = await bounds(a);
  // the table's business key (index, date): a record sent again after a producer restart supersedes the first
  const keyOf = (v: Buffer) => {
    try {
      const r = JSON.parse(v.toString('utf8')) as { index?: unknown; date?: unknown };
      return typeof r.index === 'string' && typeof r.date === 'string' ? `${r.index}|${r.date}` : undefined;
    } catch {
      return undefined;
    }
  };
  let t0 = Date.now();
  const topic = await readTopic(kafka, a.topic, ends, 1_048_576, keyOf);
  const ms = { topic: Date.now() - t0, lake: 0, staged: 0 };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cluster-probe-'));
  try {
    t0 = Date.now();
    const all = await readLake(s3Client(a.endpoint), a.bucket, dir);
    ms.lake = Date.now() - t0;
    const keep = all.offsets.map((o, i) => o < (ends.get(all.partitions[i]!) ?? 0));
    const lake = { partitions: all.partitions.filter((_, i) => keep[i]), offsets: all.offsets.filter((_, i) => keep[i]) };
    const logged = a.ackedLog ? ackedFromLog(readFileSync(a.ackedLog, 'utf8')) : [];
    const acked = logged.flatMap((r) => {
      const end = ends.get(r.partition) ?? 0;
      return r.baseOffset >= end ? [] : [{ ...r, count: Math.min(r.count, end - r.baseOffset) }];
    });
    const l = compareLedger(topic, lake, acked);
    t0 = Date.now();
    const st = await staged(a);
    ms.staged = Date.now() - t0;
    return {
      inTopic: st.inTopic,
      staged: st,
      acknowledged: l.ackedRecords,
      lakeRows: lake.offsets.length,
      lost: l.ackedLost.length,
      duplicated: l.duplicates.length + l.stale.length + (st.rows - st.distinct),
      superseded: l.superseded,
      missing: l.missing.length,
      notInTopic: l.notInTopic.length,
      examples: [...l.ackedLost, ...l.missing, ...l.duplicates, ...l.stale, ...l.notInTopic, ...st.overlaps].slice(0, 8),
      ms,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * partition → the offset below which staging holds every record, from the object names alone (each names
 * its partition and offset range; a batch's DLQ object shares it): staging is the consumer's truth, the
 * group offset follows it (a commit that failed is made good by the next object).
 */
async function stagedThrough(a: Args): Promise<Record<string, number>> {
  if (!a.endpoint || !a.bucket) throw new Error('stagedThrough needs endpoint and bucket');
  const s3 = s3Client(a.endpoint);
  const ranges = new Map<number, Array<[number, number]>>();
  for (const prefix of [`staging/${a.topic}/`, `staging/_dlq/${a.topic}/`]) {
    for (const key of await listKeys(s3, a.bucket, prefix)) {
      const n = parseKey('staging', key);
      if (!n || n.topic !== a.topic || n.stage !== 'consumer') continue;
      const list = ranges.get(n.partition) ?? [];
      list.push([n.first, n.last]);
      ranges.set(n.partition, list);
    }
  }
  const out: Record<string, number> = {};
  for (const [p, list] of ranges) {
    let covered = 0;
    for (const [first, last] of list.sort((x, y) => x[0] - y[0])) if (first <= covered) covered = Math.max(covered, last + 1);
    out[String(p)] = covered;
  }
  return out;
}

async function lakeRows(a: Args): Promise<number> {
  if (!a.endpoint || !a.bucket) throw new Error('lakeRows needs endpoint and bucket');
  return await lakeManifestRows(s3Client(a.endpoint), a.bucket);
}

const COMMANDS: Record<string, (a: Args) => Promise<unknown>> = { describe, offsets, committed, stagedThrough, staged, lakeRows, ledger };

const [command = '', json = '{}'] = process.argv.slice(2);
const fn = COMMANDS[command];
if (!fn) {
  process.stderr.write(`cluster-probe: unknown command ${command}; known: ${Object.keys(COMMANDS).join(', ')}\n`);
  process.exit(2);
}
// a probe answers and ends: once its answer is written, whatever a client library left pending does not
// keep it (and the test waiting on it) alive
fn(JSON.parse(json) as Args).then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`, () => process.exit(0)),
  (err: unknown) => {
    process.stderr.write(`cluster-probe ${command}: ${oneLine(err)}\n`);
    process.exit(1);
  },
);
