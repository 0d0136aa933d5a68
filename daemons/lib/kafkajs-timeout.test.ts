import { createRequire } from 'node:module';
import test from 'ava';
import './kafkajs-timeout.js';

test('kafkajs’s throttle check past its time runs without a TimeoutNegativeWarning', async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as { prototype: { scheduleCheckPendingRequests(this: unknown): void } };
  let checked = 0;
  const queue = { throttledUntil: -1, throttleCheckTimeoutId: null, pending: [], checkPendingRequests: () => checked++ };
  RequestQueue.prototype.scheduleCheckPendingRequests.call(queue);
  await new Promise((r) => setTimeout(r, 30));
  process.off('warning', onWarning);
  t.is(checked, 1, 'the check still runs');
  t.false(warnings.includes('TimeoutNegativeWarning'), warnings.join(', '));
});
