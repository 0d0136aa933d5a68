// Imported for its effect by every module that makes a kafkajs client (lib/kafka.ts, local/stack.ts) and
// by the test workers (package.json ava.require).
import { createRequire } from 'node:module';

// kafkajs 2.2.4 (its last release) schedules its request queue's throttle check with
// `setTimeout(fn, throttledUntil - Date.now())` when nothing is pending (requestQueue/index.js,
// scheduleCheckPendingRequests): a negative delay, which Node.js 24 reports as a TimeoutNegativeWarning
// on the stderr of every client that connects. Node runs a negative delay as 1 ms; this is the same
// method with the delay clamped at 0, so the check runs as before and the warning is gone.
interface QueueState {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests(): void;
}
{
  const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as { prototype: { scheduleCheckPendingRequests(this: QueueState): void } };
  const CHECK_PENDING_REQUESTS_INTERVAL = 10; // kafkajs's own constant
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: QueueState) {
    let scheduleAt = this.throttledUntil - Date.now();
    if (!this.throttleCheckTimeoutId) {
      if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL;
      this.throttleCheckTimeoutId = setTimeout(() => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      }, Math.max(0, scheduleAt));
    }
  };
}
