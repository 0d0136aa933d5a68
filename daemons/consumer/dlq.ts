// The dead-letter queue in S3, for operators: list the DLQ objects, read their dead letters, replay them.
// Two stages write there (naming.ts): the consumer (records it could not stage: not UTF-8, not a JSON
// object, too large, tombstones) and the ETL (staged lines its spec rejects: a wrong type, a bad date, a
// missing key field), each object named after the range it covers; both are listed, shown and replayed.
// An ETL dead letter keeps the staging line, so its replay sends the record's value as it was sent
// (records.ts, sentValue) with its key.
// Replay re-sends a dead letter's raw bytes (and key) to its topic with a `kafkalake-replay-of` header
// naming the original topic+partition+offset, after checking it with the consumer's current rules
// (consumer.maxRecordBytes, JSON object): one that would be dead-lettered again is not sent but reported,
// so a replay never loops. Only dead letters are re-sent, never good records, so a replay cannot duplicate
// staged data; an object once replayed gets a marker (`<prefix>/_dlq/_replayed/<topic>/<name>.json`)
// and is skipped by later replays unless --again.
import { GetObjectCommand, paginateListObjectsV2, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import type { Producer } from 'kafkajs';
import { KafkalakeError, wrap } from '../lib/errors.js';
import { isFolderMarker } from '../lib/etl/store.js';
import { DLQ_DIR, type ObjectName, parseKey, type Stage } from './naming.js';
import { type DeadLetter, type Envelope, type Reason, sentValue, toLine } from './records.js';

export const REPLAY_HEADER = 'kafkalake-replay-of';

export interface DlqDeps {
  s3: S3Client;
  bucket: string;
  prefix: string;
}

export interface DlqObject extends ObjectName {
  key: string;
  size: number;
  replayed: boolean;
}

const markerKey = (d: DlqDeps, o: ObjectName, key: string) => `${d.prefix}/${DLQ_DIR}/_replayed/${o.topic}/${key.slice(key.lastIndexOf('/') + 1)}.json`;

async function listKeys(d: DlqDeps, prefix: string): Promise<Array<{ key: string; size: number }>> {
  const out: Array<{ key: string; size: number }> = [];
  try {
    for await (const page of paginateListObjectsV2({ client: d.s3 }, { Bucket: d.bucket, Prefix: prefix })) {
      for (const o of page.Contents ?? []) if (o.Key && !isFolderMarker(o.Key)) out.push({ key: o.Key, size: o.Size ?? 0 });
    }
  } catch (err) {
    throw wrap(err, `s3://${d.bucket}/${prefix}`, `cannot list the DLQ s3://${d.bucket}/${prefix}`);
  }
  return out;
}

/** One dead letter of either stage, as `dlq show` prints it and `dlq replay` sends it. */
export interface Letter extends Envelope {
  stage: Stage;
  /** the consumer's reason code (records.ts REASONS), or the ETL's reason */
  reason: string;
  detail: string;
  /** the record's value as sent (base64); null for a tombstone */
  raw_base64: string | null;
  /** the ETL's: the staging object the line was in */
  source?: string;
}

/** A line of an ETL dead-letter object (glue/README.md, "Dead letters"; both executors write it) */
interface EtlReject {
  stage: 'etl';
  table: string;
  reason: string;
  source: string;
  _topic: string;
  _partition: number;
  _offset: number;
  raw: string;
}

/** An ETL reject as a Letter: its envelope and value from the staging line it keeps. */
export function etlLetter(x: EtlReject): Letter {
  let staged: Record<string, unknown> = {};
  try {
    const v = JSON.parse(x.raw) as unknown;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) staged = v as Record<string, unknown>;
  } catch {
    // a line that is not JSON: its envelope is the reject's, its value the line
  }
  return {
    _topic: x._topic,
    _partition: x._partition,
    _offset: x._offset,
    _timestamp: typeof staged._timestamp === 'string' ? staged._timestamp : '',
    _key: typeof staged._key === 'string' ? staged._key : null,
    stage: 'etl',
    reason: x.reason,
    detail: `rejected by the ETL of table ${x.table} in ${x.source}`,
    raw_base64: Buffer.from(sentValue(x.raw), 'utf8').toString('base64'),
    source: x.source,
  };
}

/** Every DLQ object (of one topic, or all; of one stage, or both), oldest first. */
export async function listDlq(d: DlqDeps, topic?: string, stage?: Stage): Promise<DlqObject[]> {
  const base = `${d.prefix}/${DLQ_DIR}/`;
  const all = await listKeys(d, topic ? `${base}${topic}/` : base);
  const markers = new Set(all.filter((o) => o.key.startsWith(`${base}_replayed/`)).map((o) => o.key));
  const out: DlqObject[] = [];
  for (const o of all) {
    const n = parseKey(d.prefix, o.key);
    if (!n?.dlq || (stage && n.stage !== stage)) continue;
    out.push({ ...n, key: o.key, size: o.size, replayed: markers.has(markerKey(d, n, o.key)) });
  }
  if (topic) {
    // markers live outside the topic's folder
    const m = new Set((await listKeys(d, `${base}_replayed/${topic}/`)).map((o) => o.key));
    for (const o of out) o.replayed = m.has(markerKey(d, o, o.key));
  }
  return out.sort((a, b) => a.dt.localeCompare(b.dt) || a.partition - b.partition || a.first - b.first || a.stage.localeCompare(b.stage));
}

/** The dead letters of one DLQ object, of either stage. */
export async function readDlq(d: DlqDeps, key: string): Promise<Letter[]> {
  const where = `s3://${d.bucket}/${key}`;
  const name = parseKey(d.prefix, key);
  if (!name?.dlq) throw new KafkalakeError(`not a DLQ object name: ${key} (expected ${d.prefix}/${DLQ_DIR}/<topic>/dt=YYYY-MM-DD/<topic>+<p>+<first>+<last>.jsonl.gz, or .etl.jsonl.gz for the ETL's)`, { where });
  let bytes: Uint8Array;
  try {
    const r = await d.s3.send(new GetObjectCommand({ Bucket: d.bucket, Key: key }));
    bytes = await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
  } catch (err) {
    throw wrap(err, where, `cannot read ${where}`);
  }
  const lines = gunzipSync(bytes)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  try {
    return lines.map((l) => (name.stage === 'etl' ? etlLetter(JSON.parse(l) as EtlReject) : { ...(JSON.parse(l) as DeadLetter), stage: 'consumer' as const }));
  } catch (err) {
    throw wrap(err, where, `cannot read the dead letters of ${where}`);
  }
}

export interface ReplayResult {
  key: string;
  sent: number;
  /** still bad under the current rules: not sent */
  kept: Array<{ offset: number; reason: Reason }>;
  skipped: boolean;
}

/** Re-send the dead letters of one object that now pass the consumer's checks. */
export async function replayObject(
  d: DlqDeps,
  producer: Producer,
  o: DlqObject,
  opts: { maxRecordBytes: number; again?: boolean; toTopic?: string },
): Promise<ReplayResult> {
  if (o.replayed && !opts.again) return { key: o.key, sent: 0, kept: [], skipped: true };
  const letters = await readDlq(d, o.key);
  const kept: ReplayResult['kept'] = [];
  const messages = [];
  for (const l of letters) {
    const raw = l.raw_base64 === null ? null : Buffer.from(l.raw_base64, 'base64');
    const check = toLine(l._topic, l._partition, { key: null, value: raw, offset: String(l._offset), timestamp: '0' }, opts.maxRecordBytes);
    if (!check.ok) {
      kept.push({ offset: l._offset, reason: check.reason });
      continue;
    }
    messages.push({ key: l._key, value: raw, headers: { [REPLAY_HEADER]: `${l._topic}+${l._partition}+${l._offset}` } });
  }
  const topic = opts.toTopic ?? o.topic;
  if (messages.length > 0) {
    try {
      await producer.send({ topic, messages, acks: -1 });
    } catch (err) {
      throw wrap(err, `kafka topic ${topic}`, `cannot replay ${o.key}`);
    }
  }
  const marker = { replayedAt: new Date().toISOString(), topic, sent: messages.length, kept };
  await d.s3
    .send(new PutObjectCommand({ Bucket: d.bucket, Key: markerKey(d, o, o.key), Body: JSON.stringify(marker), ContentType: 'application/json' }))
    .catch((err: unknown) => {
      throw wrap(err, `s3://${d.bucket}/${markerKey(d, o, o.key)}`, 'replayed, but cannot write the replay marker');
    });
  return { key: o.key, sent: messages.length, kept, skipped: false };
}
