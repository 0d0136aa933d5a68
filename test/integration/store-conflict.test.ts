// S3's 409 ConditionalRequestConflict on a racing conditional write (daemons/lib/etl/store.ts): the write is
// retried, as PutObject's reference says ("On a 409 failure you should retry the upload"), and a conflict that
// lasts is a lost race (PreconditionError), so the ETL lock re-reads and reports the winner. The twin never
// answers 409 (moto serialises requests): a loopback HTTP proxy in front of it answers the conditional
// requests with S3's 409 error document, to the real SDK v3 client, and passes everything else through.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { KafkalakeError } from '../../daemons/lib/errors.js';
import { acquireLock } from '../../daemons/lib/etl/state.js';
import { PreconditionError, s3Store } from '../../daemons/lib/etl/store.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';

let stack: TestStack;
let bucket: string;
let direct: ReturnType<typeof createAwsClients>;

/** A proxy to the twin that answers the next `conflicts` conditional requests (If-Match / If-None-Match) 409. */
async function conflictProxy(target: string): Promise<{ url: string; conflicts: number; answered: number; close(): Promise<void> }> {
  const to = new URL(target);
  const state = { conflicts: 0, answered: 0 };
  const server = http.createServer((req, res) => {
    const conditional = req.headers['if-match'] !== undefined || req.headers['if-none-match'] !== undefined;
    if (conditional && (req.method === 'PUT' || req.method === 'DELETE') && state.conflicts > 0) {
      state.conflicts--;
      state.answered++;
      req.resume();
      req.on('end', () => {
        res.writeHead(409, { 'content-type': 'application/xml', 'x-amz-request-id': 'TEST409' });
        res.end(
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ConditionalRequestConflict</Code><Message>A conflicting operation occurred. If using PutObject you can retry the request.</Message><RequestId>TEST409</RequestId></Error>',
        );
      });
      return;
    }
    const up = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

test.before(async () => {
  stack = await startTestStack({ withKafka: false });
  bucket = await stack.bucket();
  direct = createAwsClients(stack.config({ aws: { bucket } }));
});
test.after.always(async () => {
  direct?.destroy();
  await stack?.stop();
});

async function viaProxy(conflicts: number) {
  const proxy = await conflictProxy(stack.awsEndpoint);
  proxy.conflicts = conflicts;
  const aws = createAwsClients(stack.config({ aws: { bucket, endpoint: proxy.url } }));
  return {
    proxy,
    store: s3Store(aws.s3, bucket),
    async close() {
      aws.destroy();
      await proxy.close();
    },
  };
}

test.serial('a 409 on the lock’s If-None-Match PUT is retried: the lock is taken', async (t) => {
  const job = unique('conflict');
  const p = await viaProxy(1);
  try {
    const lock = await acquireLock(p.store, job, 60_000);
    t.is(p.proxy.answered, 1, 'the SDK client got the 409');
    const stored = await s3Store(direct.s3, bucket).get(`_state/${job}.lock`);
    t.truthy(stored, 'the retried PUT reached the bucket');
    t.is((JSON.parse(stored!.body.toString('utf8')) as { runId: string }).runId, lock.body.runId);
    await lock.release();
    t.is(await s3Store(direct.s3, bucket).get(`_state/${job}.lock`), undefined, 'released');
  } finally {
    await p.close();
  }
});

test.serial('a 409 that lasts is a lost race (PreconditionError) within a bounded time, never a generic write failure', async (t) => {
  const p = await viaProxy(1000);
  try {
    const started = Date.now();
    const err = await t.throwsAsync(p.store.put(unique('k'), Buffer.from('x'), { ifNoneMatch: '*' }), { instanceOf: PreconditionError });
    t.true(p.proxy.answered >= 2 && p.proxy.answered <= 6, `asked ${p.proxy.answered} times`);
    t.true(Date.now() - started < 15_000);
    t.regex(String((err?.cause as Error | undefined)?.message ?? ''), /409 ConditionalRequestConflict/);
  } finally {
    await p.close();
  }
});

test.serial('racing for a held lock through 409s: the re-read names the holder, in one line', async (t) => {
  const job = unique('conflict');
  const holder = await acquireLock(s3Store(direct.s3, bucket), job, 60_000);
  const p = await viaProxy(1000);
  try {
    const err = await t.throwsAsync(acquireLock(p.store, job, 60_000), { instanceOf: KafkalakeError });
    t.regex(err?.message ?? '', new RegExp(`^another ETL run holds the lock s3://${bucket}/_state/${job}\\.lock \\(.+, run ${holder.body.runId}\\) until `));
    t.false((err?.message ?? '').includes('\n'));
  } finally {
    await p.close();
    await holder.release();
  }
});

test.serial('a 409 on an If-Match PUT (taking over a stale lock) is retried and the write lands', async (t) => {
  const key = `_state/${unique('k')}.json`;
  const first = await direct.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v1' }));
  const p = await viaProxy(2);
  try {
    await p.store.put(key, Buffer.from('v2'), { ifMatch: first.ETag! });
    t.is(p.proxy.answered, 2);
    t.is((await s3Store(direct.s3, bucket).get(key))?.body.toString(), 'v2');
    // a plain PUT is not conditional: the proxy passes it, and a real failure still says "cannot write"
    await p.store.put(key, Buffer.from('v3'));
    t.is((await s3Store(direct.s3, bucket).get(key))?.body.toString(), 'v3');
  } finally {
    await p.close();
    await direct.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }
});
