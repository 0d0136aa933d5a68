// A report job that fails because AWS (the twin, Glue, S3) is unreachable is retriable, so the scheduler
// retries it rather than leaving the report failed until its next schedule; one that fails for a reason
// a retry cannot fix (a saved query that does not exist) is not.
import test from 'ava';
import { freePort } from '../local/ports.js';
import { loadConfig } from '../lib/config/index.js';
import { KafkalakeError } from '../lib/errors.js';
import { createLogger } from '../lib/log.js';
import { REPORT_JOB } from './table.js';

const log = createLogger({ daemon: 'jobs-test', silent: true });

test('reports failing on an unreachable AWS endpoint: one retriable error naming the report', async (t) => {
  const port = await freePort(); // nothing listens there
  const { config } = loadConfig({ env: {}, overrides: { aws: { endpoint: `http://127.0.0.1:${port}`, bucket: 'b', maxAttempts: 1, requestTimeoutMs: 2000 } } });
  const err = await t.throwsAsync(REPORT_JOB.run(config, log, ['yearly_ohlc']), { instanceOf: KafkalakeError });
  t.regex(err?.message ?? '', /^1 of 1 reports failed: yearly_ohlc: /);
  t.true(err?.retriable, err?.message);
});

test('a saved query that does not exist is not retried', async (t) => {
  const { config } = loadConfig({ env: {}, overrides: { aws: { bucket: 'b' } } });
  const err = await t.throwsAsync(REPORT_JOB.run(config, log, ['no_such_report']), { instanceOf: KafkalakeError });
  t.regex(err?.message ?? '', /no saved query "no_such_report"/);
  t.false(err?.retriable);
});
