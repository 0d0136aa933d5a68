// One error type that knows where it happened and whether trying again can help (kafkajs' KafkaJSError
// carries `retriable` and `cause` the same way), and one classifier for Kafka and AWS failures.

export interface ErrorOptions {
  /** the component or resource: "config", "s3://bucket/key", "kafka 127.0.0.1:9092", ... */
  where: string;
  retriable?: boolean;
  cause?: unknown;
  /** the message already says what the cause says: oneLine() stops here (the cause stays chained) */
  explainsCause?: boolean;
}

export class KafkalakeError extends Error {
  readonly where: string;
  readonly retriable: boolean;
  readonly explainsCause: boolean;

  constructor(message: string, opts: ErrorOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'KafkalakeError';
    this.where = opts.where;
    this.retriable = opts.retriable ?? false;
    this.explainsCause = opts.explainsCause ?? false;
  }
}

const RETRIABLE_AWS = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'InternalServerException',
  'RequestTimeout',
  'RequestTimeoutException',
  'ConcurrentRunsExceededException',
  'CrawlerRunningException',
  'OperationTimeoutException',
]);

const RETRIABLE_NET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'TimeoutError']);

interface AwsLike {
  name?: string;
  code?: string;
  retriable?: boolean;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

/** Whether trying again may succeed: throttling, 5xx, timeouts and dropped connections are; access denied, validation, bad SQL are not. */
export function isRetriable(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as AwsLike;
  if (err instanceof KafkalakeError) return err.retriable;
  if (typeof e.retriable === 'boolean') return e.retriable; // kafkajs
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (e.name && RETRIABLE_AWS.has(e.name)) return true;
  if ((e.code && RETRIABLE_NET.has(e.code)) || (e.name && RETRIABLE_NET.has(e.name))) return true;
  if (e.cause) return isRetriable(e.cause);
  return false;
}

/** The text of an error and its causes on one line: "what: why: root cause". */
export function oneLine(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    let text: string;
    if (cur instanceof Error) {
      const code = (cur as AwsLike).code;
      text = cur.message || cur.name;
      if (code && !text.includes(code)) text = `${text} (${code})`;
      // AggregateError (e.g. every address refused) keeps its reasons in .errors
      const agg = (cur as { errors?: unknown[] }).errors;
      if (!cur.message && Array.isArray(agg) && agg[0]) text = oneLine(agg[0]);
    } else {
      text = typeof cur === 'string' ? cur : JSON.stringify(cur);
    }
    text = text.replace(/\s*\n\s*/g, ' ').trim();
    if (text && !parts.some((p) => p.includes(text))) parts.push(text);
    cur = cur instanceof KafkalakeError && cur.explainsCause ? undefined : cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join(': ') || 'unknown error';
}

/** Wrap any failure as a KafkalakeError saying where it happened, keeping whether it is retriable. */
export function wrap(err: unknown, where: string, what: string): KafkalakeError {
  return new KafkalakeError(`${what}: ${oneLine(err)}`, { where, retriable: isRetriable(err), cause: err });
}
