// Writing one object: gzip, then one PUT (objects are at most flush.maxBytes before gzip, well inside a
// single PUT's 5 GB, so no multipart). A failed PUT is retried by the SDK (jittered backoff, aws.maxAttempts),
// then by withRetry, and then for ever while the service still owns the partition: the caller awaits it,
// so fetching stops (back-pressure) and memory stays bounded while S3 is down. Not retriable errors
// (access denied, no such bucket) fail at once with a line naming the object.
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isRetriable, KafkalakeError, oneLine, wrap } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { withRetry } from '../lib/retry.js';

const gzip = promisify(gzipCb);

/** The batch was read under an assignment that has ended: it must not be written. */
export class FencedError extends KafkalakeError {
  constructor(where: string) {
    super('partition reassigned while writing; the batch is dropped and re-read by its new owner', { where, retriable: false });
    this.name = 'FencedError';
  }
}

export interface PutOptions {
  /** false once the partition's assignment ended: stop trying */
  isCurrent(): boolean;
  /** keep the group membership alive during a long outage (kafkajs' heartbeat) */
  heartbeat?: () => Promise<void>;
}

export interface Stager {
  /** gzip and PUT; resolves with the PUT's milliseconds */
  put(key: string, data: Buffer, opts: PutOptions): Promise<{ ms: number; bytes: number }>;
  /** since when S3 has been failing, or undefined */
  downSince(): number | undefined;
}

export interface StagerDeps {
  s3: S3Client;
  bucket: string;
  log: Logger;
  /** how often "still unreachable" is logged while S3 is down */
  reportEveryMs?: number;
}

export function createStager({ s3, bucket, log, reportEveryMs = 10_000 }: StagerDeps): Stager {
  let down: number | undefined;
  let reported = 0;

  const failed = (where: string, err: unknown) => {
    const now = Date.now();
    if (down === undefined) {
      down = now;
      reported = now;
      log.error('S3 unreachable: staging paused, fetching stopped, retrying until it answers', { where, error: oneLine(err) });
    } else if (now - reported >= reportEveryMs) {
      reported = now;
      log.error('S3 still unreachable: staging paused', { where, downMs: now - down, error: oneLine(err) });
    }
  };

  return {
    downSince: () => down,
    async put(key, data, opts) {
      const where = `s3://${bucket}/${key}`;
      const body = await gzip(data);
      while (true) {
        if (!opts.isCurrent()) throw new FencedError(where);
        const ac = new AbortController();
        try {
          const t0 = performance.now();
          await withRetry(
            async () => {
              if (!opts.isCurrent()) throw new FencedError(where);
              await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/x-ndjson' }), { abortSignal: ac.signal });
            },
            {
              what: 'PUT',
              where,
              retries: 4,
              minTimeoutMs: 250,
              maxTimeoutMs: 4000,
              signal: ac.signal,
              onRetry: (err) => {
                failed(where, err);
                opts.heartbeat?.().catch(() => ac.abort());
              },
            },
          );
          const ms = performance.now() - t0;
          if (down !== undefined) {
            log.warn('S3 answers again: staging resumes', { where, downMs: Date.now() - down });
            down = undefined;
          }
          return { ms, bytes: body.length };
        } catch (err) {
          if (err instanceof FencedError) throw err;
          if (ac.signal.aborted || !opts.isCurrent()) throw new FencedError(where);
          if (!isRetriable(err)) throw wrap(err, where, `cannot write ${where}`);
          failed(where, err);
          // still down after the retry budget: keep the group alive and try again
          await opts.heartbeat?.();
        }
      }
    },
  };
}
