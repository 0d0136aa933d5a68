// Shared by the consumer's integration tests: a fresh topic, bucket and consumer config per test, fill a
// topic with kafkajs directly, read all of staging back, run the CLI as a child process, sample a child's
// RSS. No test framework here (the file's stack hooks are in shared-stack.ts), so benches may import it.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Kafka, logLevel, type Message } from 'kafkajs';
import { parseKey } from '../../daemons/consumer/naming.js';
import { merge, type Tree } from '../helpers/merge.js';
import { type TestStack, unique } from '../helpers/stack.js';
import { listKeys } from '../helpers/ledger.js';

export const CLI = fileURLToPath(new URL('../../daemons/cli/main.js', import.meta.url));

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ConsumerRun {
  topic: string;
  bucket: string;
  /** the config file for `kafkalake consumer|consume --config` */
  cfg: string;
}

/**
 * A fresh topic of `partitions` partitions (named `name`-<random>), a fresh bucket, and a consumer config
 * on them: info logs, a fresh group, metrics off; `overrides` merged over that.
 */
export async function consumerRun(stack: TestStack, name: string, partitions: number, overrides: Tree = {}): Promise<ConsumerRun> {
  const topic = unique(name);
  const bucket = await stack.bucket();
  await createTopic(stack.brokers, topic, partitions);
  const base = { kafka: { topic }, aws: { bucket }, log: { level: 'info' }, consumer: { groupId: unique('g') }, metrics: { enabled: false } };
  return { topic, bucket, cfg: stack.configFile(merge(base, overrides)) };
}

export function kafkaFor(brokers: string[]): Kafka {
  return new Kafka({ clientId: 'consumer-test', brokers, logLevel: logLevel.NOTHING, retry: { retries: 10 } });
}

export async function createTopic(brokers: string[], topic: string, partitions: number, replicationFactor = 1): Promise<void> {
  const admin = kafkaFor(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** Send messages in batches (at `rate` records/s when given); returns how many were acknowledged. */
export async function produce(
  brokers: string[],
  topic: string,
  messages: Iterable<Message>,
  opts: { batch?: number; rate?: number; signal?: AbortSignal; onSent?: (n: number) => void } = {},
): Promise<number> {
  const batch = opts.batch ?? 2000;
  const producer = kafkaFor(brokers).producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const t0 = Date.now();
  let n = 0;
  const send = async (chunk: Message[]) => {
    await producer.send({ topic, messages: chunk, acks: -1 });
    n += chunk.length;
    opts.onSent?.(n);
    if (opts.rate) {
      const ahead = (n / opts.rate) * 1000 - (Date.now() - t0);
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    }
  };
  try {
    let chunk: Message[] = [];
    for (const m of messages) {
      if (opts.signal?.aborted) break;
      chunk.push(m);
      if (chunk.length >= batch) {
        await send(chunk);
        chunk = [];
      }
    }
    if (chunk.length && !opts.signal?.aborted) await send(chunk);
  } finally {
    await producer.disconnect();
  }
  return n;
}

const INDEXES = ['NYA', 'IXIC', 'HSI', 'GSPTSE', 'N225', 'GDAXI', 'SSMI', 'TWII', '000001.SS', '399001.SZ', 'N100', 'NSEI', 'J203.JO'];

/** A deterministic simulated record: record i is always the same, so a test can check every field. */
export function simulated(i: number): { index: string; seq: number; date: string; open: number; close: number; close_usd: number } {
  const index = INDEXES[i % INDEXES.length] as string;
  return { index, seq: i, date: new Date(Date.UTC(2000, 0, 1) + (i % 9000) * 86_400_000).toISOString().slice(0, 10), open: (i % 10007) / 7, close: (i % 9973) / 3, close_usd: i * 0.01 };
}

export function* simulatedMessages(from: number, count: number): Generator<Message> {
  for (let i = from; i < from + count; i++) {
    const r = simulated(i);
    yield { key: r.index, value: JSON.stringify(r) };
  }
}

/** The CSV replay rows as the producer sends them: snake_case keys, numbers as numbers, key = index. */
export function csvRows(file: string): Array<Record<string, string | number | null>> {
  const [head, ...lines] = readFileSync(file, 'utf8').trimEnd().split('\n');
  const names = (head as string).split(',').map((h) =>
    h
      .trim()
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
      .replace(/[^A-Za-z0-9]+/g, '_')
      .toLowerCase(),
  );
  return lines.map((line) => {
    const cells = line.split(',');
    const row: Record<string, string | number | null> = {};
    names.forEach((n, i) => {
      const c = cells[i] ?? '';
      row[n] = n === 'index' || n === 'date' ? c : c === '' ? null : Number(c);
    });
    return row;
  });
}

export interface StagedRow extends Record<string, unknown> {
  _topic: string;
  _partition: number;
  _offset: number;
  _timestamp: string;
  _key: string | null;
}

export interface Staging {
  /** "partition:offset" → row, for good and dead-lettered records alike */
  rows: Map<string, StagedRow>;
  dead: Map<string, StagedRow & { reason: string; raw_base64: string | null }>;
  /** offsets seen more than once */
  duplicates: string[];
  objects: number;
  /** objects whose name range does not match their lines */
  badNames: string[];
}

const listAll = listKeys;

/** Read every staging and DLQ object of a topic back and index its lines by (partition, offset). */
export async function readStaging(
  s3: S3Client,
  bucket: string,
  topic: string,
  prefix = 'staging',
  opts: { keep?: boolean; onRow?: (row: StagedRow) => void } = {},
): Promise<Staging> {
  const keep = opts.keep ?? true;
  const stub = {} as StagedRow;
  const out: Staging = { rows: new Map(), dead: new Map(), duplicates: [], objects: 0, badNames: [] };
  const keys = [...(await listAll(s3, bucket, `${prefix}/${topic}/`)), ...(await listAll(s3, bucket, `${prefix}/_dlq/${topic}/`))];
  const seen = new Set<string>();
  for (let i = 0; i < keys.length; i += 16) {
    const bodies = await Promise.all(
      keys.slice(i, i + 16).map(async (key) => {
        const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return { key, bytes: await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray() };
      }),
    );
    for (const { key, bytes } of bodies) {
      const name = parseKey(prefix, key);
      if (name?.stage === 'etl') continue; // the ETL's dead letters: not the consumer's staging
      out.objects++;
      const lines = gunzipSync(bytes).toString('utf8').split('\n').filter(Boolean);
      for (const line of lines) {
        const row = JSON.parse(line) as StagedRow & { reason?: string; raw_base64?: string | null };
        const id = `${row._partition}:${row._offset}`;
        if (!name || row._offset < name.first || row._offset > name.last || row._partition !== name.partition) out.badNames.push(key);
        if (seen.has(id)) out.duplicates.push(id);
        seen.add(id);
        opts.onRow?.(row);
        if (name?.dlq) out.dead.set(id, row as StagedRow & { reason: string; raw_base64: string | null });
        else out.rows.set(id, keep ? row : stub);
      }
    }
  }
  return out;
}

export interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** The resident set size of a process in bytes (Linux /proc). */
export { vmRss as rssOf } from '../helpers/proc.js';

export async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 500): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Every offset 0..count-1 of every partition present exactly once (good or dead). */
export function missingOffsets(s: Staging, ends: Map<number, number>): string[] {
  const missing: string[] = [];
  for (const [p, end] of ends) for (let o = 0; o < end; o++) if (!s.rows.has(`${p}:${o}`) && !s.dead.has(`${p}:${o}`)) missing.push(`${p}:${o}`);
  return missing;
}

export async function endOffsets(brokers: string[], topic: string): Promise<Map<number, number>> {
  const admin = kafkaFor(brokers).admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** Offsets covered by staging object names (cheap: names only, no reading). */
export async function stagedByNames(s3: S3Client, bucket: string, topic: string, prefix = 'staging'): Promise<number> {
  let n = 0;
  for (const key of await listAll(s3, bucket, `${prefix}/${topic}/`)) {
    const name = parseKey(prefix, key);
    if (name) n += name.last - name.first + 1;
  }
  return n;
}
