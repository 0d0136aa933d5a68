import test from 'ava';
import { isRetriable, KafkalakeError, oneLine, wrap } from './errors.js';
import { withRetry } from './retry.js';

const aws = (name: string, status: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status }, ...extra });

test('throttling, 5xx, timeouts and refused connections are retriable; denial, validation and bad SQL are not', (t) => {
  t.true(isRetriable(aws('ThrottlingException', 400)));
  t.true(isRetriable(aws('SlowDown', 503)));
  t.true(isRetriable(aws('InternalError', 500)));
  t.true(isRetriable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })));
  t.true(isRetriable(Object.assign(new Error('x'), { retriable: true }))); // kafkajs
  t.false(isRetriable(aws('AccessDenied', 403)));
  t.false(isRetriable(aws('ValidationException', 400)));
  t.false(isRetriable(aws('InvalidRequestException', 400, { message: 'line 1:8: mismatched input' })));
  t.false(isRetriable(Object.assign(new Error('x'), { retriable: false })));
  t.false(isRetriable('a string'));
  t.true(isRetriable(new Error('outer', { cause: aws('ServiceUnavailable', 503) })));
});

test('oneLine joins a cause chain on one line without repeating itself', (t) => {
  const root = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  const err = wrap(root, 's3://b/k', 'PUT staging object');
  t.is(err.where, 's3://b/k');
  t.true(err.retriable);
  t.is(oneLine(err), 'PUT staging object: connect ECONNREFUSED 127.0.0.1:9');
  t.is(oneLine(new Error('a\n  b')), 'a b');
  t.is(oneLine(new KafkalakeError('top', { where: 'x', cause: new Error('inner') })), 'top: inner');
});

test('withRetry retries a retriable failure, then succeeds', async (t) => {
  let calls = 0;
  const seen: number[] = [];
  const v = await withRetry(
    async () => {
      calls++;
      if (calls < 3) throw aws('ThrottlingException', 400);
      return 'ok';
    },
    { what: 'thing', where: 'here', minTimeoutMs: 1, maxTimeoutMs: 5, onRetry: (_e, attempt) => seen.push(attempt) },
  );
  t.is(v, 'ok');
  t.is(calls, 3);
  t.deepEqual(seen, [1, 2]);
});

test('withRetry gives up at once on a permanent failure, keeping the original error', async (t) => {
  let calls = 0;
  const err = await t.throwsAsync(
    withRetry(
      async () => {
        calls++;
        throw aws('AccessDenied', 403);
      },
      { what: 'thing', where: 'here', minTimeoutMs: 1 },
    ),
  );
  t.is(calls, 1);
  t.is(err?.name, 'AccessDenied');
});

test('withRetry wraps the last cause once retries are exhausted', async (t) => {
  let calls = 0;
  const err = await t.throwsAsync(
    withRetry(
      async () => {
        calls++;
        throw aws('SlowDown', 503);
      },
      { what: 'PUT x', where: 's3://b/x', retries: 2, minTimeoutMs: 1, maxTimeoutMs: 2 },
    ),
    { instanceOf: KafkalakeError },
  );
  t.is(calls, 3);
  t.is(err?.message, 'PUT x failed after 3 attempts: SlowDown happened');
  t.true(err?.retriable);
});
