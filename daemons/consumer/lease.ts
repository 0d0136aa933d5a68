// The consumer's lease on its partitions: proof, recent enough, that the group still counts it a member.
// The coordinator expires a member a session timeout after the last heartbeat it received. The lease
// lasts half of that from when the request the coordinator answered was sent (a heartbeat, or the
// SyncGroup of a join): not from when the answer was read, which a stalled process reads late. A PUT
// started under it lands before another member can have been given the partition, unless the PUT itself
// takes longer than the other half.
import { KafkalakeError } from '../lib/errors.js';

/** No PUT: the lease lapsed and a heartbeat could not renew it. The batch is dropped and read again. */
export class LeaseLapsed extends KafkalakeError {
  constructor(
    partition: number,
    readonly remainingMs: number,
  ) {
    super(`no lease on partition ${partition}: the group coordinator has not answered for too long`, { where: `partition ${partition}`, retriable: true });
    this.name = 'LeaseLapsed';
  }
}

export interface Lease {
  /** the coordinator answered a request sent at `sentAt`: the lease runs from then */
  renew(sentAt: number): void;
  /** milliseconds the lease still runs (0 or less: lapsed) */
  remaining(): number;
  /**
   * true when the lease holds, renewing it first by a heartbeat if it has lapsed; false when the
   * heartbeat fails, is not sent (no heartbeat known, or kafkajs had no reason to send one) or the
   * coordinator's answer does not renew it
   */
  hold(heartbeat?: () => Promise<void>): Promise<boolean>;
}

export function createLease(sessionTimeoutMs: number, now: () => number = Date.now): Lease {
  const ttl = Math.floor(sessionTimeoutMs / 2);
  let renewedAt = Number.NEGATIVE_INFINITY;
  const remaining = () => renewedAt + ttl - now();
  return {
    renew(sentAt) {
      renewedAt = Math.max(renewedAt, sentAt);
    },
    remaining,
    async hold(heartbeat) {
      if (remaining() > 0) return true;
      if (!heartbeat) return false;
      try {
        await heartbeat();
      } catch {
        return false;
      }
      // kafkajs' heartbeat() resolves without asking when it thinks one is not due: only the HEARTBEAT
      // event (renew) says the coordinator answered
      return remaining() > 0;
    },
  };
}
