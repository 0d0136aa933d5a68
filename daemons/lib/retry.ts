// The project's one retry helper: p-retry (jittered exponential backoff with a cap), bailing out at
// once on errors that are not retriable. The same defaults run in tests and in production.
import pRetry, { AbortError } from 'p-retry';
import { isRetriable, KafkalakeError, oneLine } from './errors.js';

export interface RetryOptions {
  /** what is being tried, for the "retries exceeded" error and the log */
  what: string;
  where: string;
  retries?: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  signal?: AbortSignal;
  onRetry?: (err: unknown, attempt: number, retriesLeft: number) => void;
}

export const RETRY_DEFAULTS = { retries: 5, minTimeoutMs: 200, maxTimeoutMs: 10_000 } as const;

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const retries = opts.retries ?? RETRY_DEFAULTS.retries;
  try {
    return await pRetry(
      async (attempt) => {
        try {
          return await fn(attempt);
        } catch (err) {
          if (!isRetriable(err)) throw new AbortError(err instanceof Error ? err : new Error(String(err)));
          throw err;
        }
      },
      {
        retries,
        factor: 2,
        randomize: true,
        minTimeout: opts.minTimeoutMs ?? RETRY_DEFAULTS.minTimeoutMs,
        maxTimeout: opts.maxTimeoutMs ?? RETRY_DEFAULTS.maxTimeoutMs,
        ...(opts.signal ? { signal: opts.signal } : {}),
        onFailedAttempt: (e) => {
          opts.onRetry?.(e, e.attemptNumber, e.retriesLeft);
        },
      },
    );
  } catch (err) {
    if (!isRetriable(err)) throw err;
    throw new KafkalakeError(`${opts.what} failed after ${retries + 1} attempts: ${oneLine(err)}`, { where: opts.where, retriable: true, cause: err });
  }
}
