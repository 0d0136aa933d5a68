import test from 'ava';
import { createLease } from './lease.js';

/** a lease on a clock the test moves */
function clocked(sessionTimeoutMs: number) {
  let t = 1_000_000;
  const lease = createLease(sessionTimeoutMs, () => t);
  return { lease, now: () => t, advance: (ms: number) => (t += ms) };
}

test('a lease never renewed does not hold, and nothing renews it without a heartbeat', async (t) => {
  const { lease } = clocked(10_000);
  t.true(lease.remaining() <= 0);
  t.false(await lease.hold());
});

test('a renewed lease holds for half the session timeout, without a heartbeat', async (t) => {
  const { lease, now, advance } = clocked(10_000);
  lease.renew(now());
  let beats = 0;
  const heartbeat = () => {
    beats++;
    return Promise.resolve();
  };
  advance(4999);
  t.true(await lease.hold(heartbeat));
  t.is(beats, 0, 'no heartbeat while the lease runs');
  advance(1);
  t.is(lease.remaining(), 0);
});

test('a lapsed lease holds again only when the heartbeat was answered (kafkajs: the HEARTBEAT event)', async (t) => {
  const { lease, now, advance } = clocked(10_000);
  lease.renew(now());
  advance(6000);
  // kafkajs' heartbeat() resolves without asking when it thinks none is due: no answer, no lease
  t.false(await lease.hold(() => Promise.resolve()));
  // the coordinator answers a heartbeat sent 200 ms ago: kafkajs emits HEARTBEAT, which renews from the send
  const sent = now();
  t.true(
    await lease.hold(async () => {
      advance(200);
      lease.renew(sent);
    }),
  );
  t.is(lease.remaining(), 4800);
});

test('a lapsed lease whose heartbeat fails (rebalance, coordinator gone) does not hold', async (t) => {
  const { lease, now, advance } = clocked(6000);
  lease.renew(now());
  advance(3001);
  t.false(await lease.hold(() => Promise.reject(new Error('The group is rebalancing, so a rejoin is needed'))));
  t.true(lease.remaining() < 0);
});

test('an answer read late, after a stall, renews from when its request was sent: a stall longer than the lease leaves it lapsed', async (t) => {
  const { lease, now, advance } = clocked(6000);
  const sent = now();
  advance(15_000); // stopped between the request and reading its answer; the group has moved on
  lease.renew(sent);
  t.true(lease.remaining() < 0);
  t.false(await lease.hold(() => Promise.reject(new Error('The coordinator is not aware of this member'))));
  // an older answer never shortens a newer lease
  lease.renew(now());
  lease.renew(sent);
  t.is(lease.remaining(), 3000);
});
