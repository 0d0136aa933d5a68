import test from 'ava';
import { waitUntil } from './process.js';

test('waitUntil returns on the first true, and a timeout names the probe’s last answer', async (t) => {
  let calls = 0;
  await waitUntil('svc', async () => ++calls === 3, { timeoutMs: 5000, intervalMs: 1 });
  t.is(calls, 3);
  const err = await t.throwsAsync(waitUntil('kafka', async () => 'no controller yet (1 brokers)', { timeoutMs: 30, intervalMs: 5 }));
  t.is(err?.message, 'kafka did not answer within 30 ms; last answer: no controller yet (1 brokers)');
  // a string is not an answer, however truthy
  const err2 = await t.throwsAsync(waitUntil('aws', async () => false, { timeoutMs: 20, intervalMs: 5 }));
  t.is(err2?.message, 'aws did not answer within 20 ms');
});
