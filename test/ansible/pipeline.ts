// What the pipeline on the test host did, read from outside it: the staged rows in the twin's S3 and the
// topic's end offsets in the host's Kafka (both on this machine's loopback: the network is shared).
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Kafka, logLevel } from 'kafkajs';
import { pool } from '../../daemons/lib/catalog/objects.js';

export interface Staged {
  objects: number;
  rows: number;
  /** distinct (partition, offset) pairs seen */
  distinct: number;
  /** partition → offsets staged (sorted) */
  offsets: Map<number, number[]>;
}

export function s3Client(endpoint: string): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'reader', secretAccessKey: 'reader' } });
}

/** Every row under staging/<topic>/ and staging/_dlq/<topic>/ (bad records count as landed). */
export async function readStaged(s3: S3Client, bucket: string, topic: string): Promise<Staged> {
  const keys: string[] = [];
  for (const prefix of [`staging/${topic}/`, `staging/_dlq/${topic}/`]) {
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  const seen = new Set<string>();
  const offsets = new Map<number, number[]>();
  let rows = 0;
  // 16 GETs at a time: a cluster run stages thousands of small objects
  const bodies: Buffer[] = new Array<Buffer>(keys.length);
  await pool(keys, 16, async (key, i) => {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    bodies[i] = Buffer.from(await res.Body!.transformToByteArray());
  });
  for (const body of bodies) {
    for (const line of gunzipSync(body).toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      const row = JSON.parse(line) as { _partition?: number; _offset?: number | string };
      rows++;
      const p = Number(row._partition);
      const o = Number(row._offset);
      seen.add(`${p}:${o}`);
      const list = offsets.get(p) ?? [];
      list.push(o);
      offsets.set(p, list);
    }
  }
  for (const list of offsets.values()) list.sort((a, b) => a - b);
  return { objects: keys.length, rows, distinct: seen.size, offsets };
}

/** partition → high watermark (the next offset) of the topic. */
export async function endOffsets(brokers: string[], topic: string): Promise<Map<number, number>> {
  const kafka = new Kafka({ clientId: 'ansible-test', brokers, logLevel: logLevel.NOTHING, connectionTimeout: 5000, requestTimeout: 10000 });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offs = await admin.fetchTopicOffsets(topic);
    return new Map(offs.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** Offsets in [0, high) of each partition that were not staged. */
export function missing(staged: Staged, ends: Map<number, number>): number {
  let n = 0;
  for (const [p, high] of ends) {
    const have = new Set(staged.offsets.get(p) ?? []);
    for (let o = 0; o < high; o++) if (!have.has(o)) n++;
  }
  return n;
}
