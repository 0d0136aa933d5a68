// slow: `ansible-playbook site.yml` on six hosts (cluster.ts: systemd-nspawn hosts on a private bridge in
// a network namespace this test makes): a 3-node ZooKeeper ensemble and 3 brokers on kafka-1..3, the
// producer and the scheduler on app-1, a consumer on each of app-2 and app-3, the AWS twin as the AWS
// endpoint. Converge, idempotence, verify (ensemble, brokers, replicated topic), then faults under a
// steady load: each is injected, recovered from, and checked (every acknowledged record staged once and
// in the lake once), and the table of them printed.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { APP_HOSTS, Cluster, DAEMONS_ON, type HostName, KAFKA_HOSTS } from './cluster.js';
import type { Describe, LedgerCount, StagedCount } from './cluster-probe.js';
import { missingPrerequisites, type PlaybookRun } from './host.js';

const cluster = new Cluster();
const BUCKET = `kl-cluster-${randomUUID().slice(0, 8)}`;
const TOPIC = 'stock_market_data';
const PARTITIONS = 6;
/** The producer's steady rate for the whole test (records/s), acks=all. */
const RATE = 200;

/** The ETL's cron interval, seconds. */
const ETL_EVERY_S = 15;
/** Every fault is over, recovered from and checked within this bound (the test stops by itself). */
const RECOVERY_BOUND_MS = 4 * 60_000;
/** A new ZooKeeper leader within this bound of the old one's power cut (10 s to notice, then the election). */
const ELECTION_BOUND_MS = 90_000;

const config = {
  // simulated daily bars: every record a new business key, so the lake holds every record once (the CSV
  // replay would loop over its keys, which the lake upserts)
  producer: { source: 'simulate', symbols: 20, rate: RATE, statsIntervalMs: 10_000 },
  consumer: { flush: { intervalMs: 2000 } },
  etl: { cron: `*/${ETL_EVERY_S} * * * * *` },
  metrics: { flushIntervalMs: 5000 },
  // the cluster and lag measured every 5 s, alarms over 10 s periods: an alarm fires while a host is off
  scheduler: { lagIntervalMs: 5000 },
  monitoring: { periodSeconds: 10 },
};
// the producer logs each acknowledged request (`acked`, debug): the ledger holds them against the lake
const perHost = { 'app-1': { kafkalake_log_level: 'debug' } };

function inventory(extra: Record<string, unknown> = {}): string {
  return cluster.inventory(
    {
      kafkalake_mode: 'local',
      kafkalake_bucket: BUCKET,
      kafkalake_topic_partitions: PARTITIONS,
      kafkalake_shutdown_timeout_ms: 15_000,
      kafkalake_health_seconds: 6,
      kafkalake_aws_access_key_id: 'cluster-test-key',
      kafkalake_aws_secret_access_key: 'cluster-test-secret',
      kafkalake_config: config,
      ...extra,
    },
    { aws_resources_bucket: BUCKET },
    perHost,
  );
}

function summary(r: PlaybookRun): string {
  const lines = r.output.split('\n');
  const notable = Object.keys(r.recap).length > 0 ? lines.filter((l) => /fatal|FAILED|changed:|ERROR/.test(l)).slice(-30) : lines.slice(-30);
  return `exit ${r.code}, recap ${JSON.stringify(r.recap)}\n${notable.join('\n')}`;
}

async function describe(): Promise<Describe> {
  return await cluster.probe<Describe>('describe', { brokers: cluster.brokers(), topic: TOPIC });
}

async function staged(): Promise<StagedCount> {
  return await cluster.probe<StagedCount>('staged', { brokers: cluster.brokers(), topic: TOPIC, endpoint: cluster.awsEndpoint, bucket: BUCKET });
}

/** Set once the first converge passed: every later test needs the cluster, and fails at once without it. */
let converged = false;
function needsCluster(t: ExecutionContext): boolean {
  if (!converged) t.fail('the cluster did not converge (see the converge test)');
  return converged;
}

test.before(async () => {
  const missingTools = await missingPrerequisites();
  if (missingTools.length > 0) throw new Error(`the cluster test needs: ${missingTools.join(', ')} (npm test installs test/apt-packages.txt as root)`);
  await cluster.start();
});

test.after.always(async () => {
  await cluster.stop();
});

test.serial('slow: converge — site.yml forms the ensemble and the cluster on six hosts from scratch', async (t) => {
  t.timeout(25 * 60_000);
  const r = await cluster.playbook(inventory());
  t.is(r.code, 0, summary(r));
  for (const h of [...KAFKA_HOSTS, ...APP_HOSTS, 'localhost']) t.is(r.recap[h]?.failed, 0, `${h}: ${summary(r)}`);
  for (const h of [...KAFKA_HOSTS, ...APP_HOSTS]) t.true((r.recap[h]?.changed ?? 0) > 5, `${h} provisioned: ${summary(r)}`);
  converged = r.code === 0;
});

test.serial('slow: idempotence — a second run changes nothing on any host', async (t) => {
  t.timeout(20 * 60_000);
  if (!needsCluster(t)) return;
  const r = await cluster.playbook(inventory());
  t.is(r.code, 0, summary(r));
  for (const [h, recap] of Object.entries(r.recap)) t.is(recap.changed, 0, `${h}: ${summary(r)}`);
});

test.serial('verify — one ZooKeeper leader and two followers, three brokers, the topic replicated 3 ways with min.insync.replicas 2', async (t) => {
  t.timeout(5 * 60_000);
  if (!needsCluster(t)) return;
  const modes = await Promise.all(KAFKA_HOSTS.map(async (h) => /Mode: (\w+)/.exec(await cluster.zk(h, 'srvr'))?.[1] ?? 'none'));
  t.deepEqual([...modes].sort(), ['follower', 'follower', 'leader'], `srvr modes: ${modes.join(', ')}`);
  const mntr = await cluster.zk(KAFKA_HOSTS[modes.indexOf('leader')]!, 'mntr');
  t.regex(mntr, /zk_synced_followers\s+2/, mntr);

  let d: Describe | undefined;
  // the producer creates the topic at its first start; wait for it and its leaders
  await cluster
    .probe<Describe>('describe', { brokers: cluster.brokers(), topic: TOPIC })
    .then((x) => (d = x))
    .catch(() => undefined);
  for (let i = 0; i < 60 && (!d || d.partitions.length < PARTITIONS); i++) {
    await new Promise((r) => setTimeout(r, 2000));
    d = await describe().catch(() => undefined);
  }
  t.truthy(d, 'the topic exists');
  t.deepEqual(d!.brokers, [1, 2, 3]);
  t.true(d!.controller !== null && [1, 2, 3].includes(d!.controller), `controller ${d!.controller}`);
  t.is(d!.partitions.length, PARTITIONS);
  for (const p of d!.partitions) {
    t.deepEqual(p.replicas, [1, 2, 3], `partition ${p.partition} replicas`);
    t.deepEqual(p.isr, [1, 2, 3], `partition ${p.partition} in sync`);
  }
  t.deepEqual([...new Set(d!.partitions.map((p) => p.leader))].sort(), [1, 2, 3], 'leaders spread over the three brokers');
  t.is(d!.minInsyncReplicas, 2);
});

test.serial('pipeline — both consumers share the group and stage what the producer sends', async (t) => {
  t.timeout(5 * 60_000);
  if (!needsCluster(t)) return;
  let s: StagedCount = { inTopic: 0, rows: 0, distinct: 0, missing: 0, overlaps: [] };
  for (let i = 0; i < 60 && s.rows < 2000; i++) {
    await new Promise((r) => setTimeout(r, 2000));
    s = await staged();
  }
  t.true(s.rows >= 2000, `${JSON.stringify(s)}\n${await cluster.journal('app-2', 'kafkalake-consumer')}`);
  t.is(s.rows, s.distinct, 'no record staged twice');
  restartsBefore = (await producerRestarts()).restarts;
  for (const h of ['app-2', 'app-3'] as HostName[]) {
    const assigned = await cluster.journal(h, 'kafkalake-consumer', 400);
    t.regex(assigned, /assign|partitions/i, `${h} consumer joined the group`);
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, everyMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${Math.round(timeoutMs / 1000)} s${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

async function offsets(): Promise<Record<string, number>> {
  return await cluster.probe<Record<string, number>>('offsets', { brokers: cluster.brokers(), topic: TOPIC });
}

/** Whole: three brokers, every partition led and in sync on all its replicas. */
async function whole(): Promise<Describe | undefined> {
  const d = await describe();
  return d.brokers.length === 3 && d.partitions.length === PARTITIONS && d.partitions.every((p) => !p.offline && p.isr.length === p.replicas.length) ? d : undefined;
}

/** Staging holds every record below `upTo` (produced before a point in time), by its object names (cheap:
 * LISTs only; the ledger reads staging record by record afterwards). */
async function stagedUpTo(upTo: Record<string, number>): Promise<Record<string, number> | undefined> {
  const c = await cluster.probe<Record<string, number>>('stagedThrough', { topic: TOPIC, endpoint: cluster.awsEndpoint, bucket: BUCKET });
  return Object.entries(upTo).every(([p, o]) => (c[p] ?? 0) >= o) ? c : undefined;
}

/** The records below `upTo`, acknowledged (the producer's journal), staged and in the lake, once the lake has them all. */
async function ledger(upTo: Record<string, number>, producerRestarted: boolean): Promise<{ count: LedgerCount; took: string }> {
  const took = phases();
  const log = path.join(cluster.dir, 'producer.log');
  writeFileSync(log, await cluster.ssh('app-1', 'journalctl -u kafkalake-producer -o cat --no-pager | grep \'"acked"\' || true', 120_000));
  took('producer journal');
  const args = { brokers: cluster.brokers(), topic: TOPIC, endpoint: cluster.awsEndpoint, bucket: BUCKET, upTo, ackedLog: log };
  // staged first (cheap: the group's offsets), then the lake's manifests count as many rows (cheap), then
  // the one costly read of the topic, staging and the lake, record by record
  await waitStaged('staging holds every record of the ledger', upTo);
  took('staged');
  const produced = Object.values(upTo).reduce((a, b) => a + b, 0);
  // (after a producer restart the lake holds fewer rows than records, one per business key: no gate)
  if (!producerRestarted) await until('the lake\'s manifests count every record', RECOVERY_BOUND_MS, async () => {
    const n = await cluster.probe<number>('lakeRows', { endpoint: cluster.awsEndpoint, bucket: BUCKET });
    return n >= produced ? n : undefined;
  }, 5000).catch(() => undefined); // a shortfall is the ledger's to name, record by record
  took('lake manifests');
  let last: LedgerCount | undefined;
  await until('the lake holds every record', RECOVERY_BOUND_MS, async () => {
    last = await cluster.probe<LedgerCount>('ledger', args, 300_000);
    took(`ledger read (topic ${Math.round(last.ms.topic / 1000)} s, lake ${Math.round(last.ms.lake / 1000)} s, staging ${Math.round(last.ms.staged / 1000)} s)`);
    return last.missing === 0 ? last : undefined;
  }, ETL_EVERY_S * 1000).catch(() => undefined);
  if (!last) throw new Error('no ledger');
  return { count: last, took: took.summary() };
}

/** What the pipeline looks like when a wait ran out: the partitions, what staging lacks, the consumers' warnings. */
async function diagnose(upTo: Record<string, number>): Promise<string> {
  const parts: string[] = [];
  parts.push(`describe: ${await describe().then((d) => JSON.stringify(d), (e: Error) => e.message)}`);
  parts.push(`ends now: ${await offsets().then((o) => JSON.stringify(o), (e: Error) => e.message)}; waited for: ${JSON.stringify(upTo)}`);
  const committed = await cluster.probe<Record<string, number>>('committed', { brokers: cluster.brokers(), topic: TOPIC }).then((c) => JSON.stringify(c), (e: Error) => e.message);
  const through = await cluster.probe<Record<string, number>>('stagedThrough', { topic: TOPIC, endpoint: cluster.awsEndpoint, bucket: BUCKET }).then((c) => JSON.stringify(c), (e: Error) => e.message);
  parts.push(`staged through (object names): ${through}; the group's committed offsets: ${committed}`);
  for (const h of ['app-2', 'app-3'] as HostName[]) {
    if (!cluster.isRunning(h)) continue;
    const state = await cluster.show(h, 'kafkalake-consumer', ['ActiveState', 'NRestarts']).then((x) => JSON.stringify(x), (e: Error) => e.message);
    const j = await cluster.ssh(h, `journalctl -u kafkalake-consumer -o cat --no-pager -n 2000 | grep -v '"level":"debug"' | grep -i 'warn\\|error\\|assign\\|rebalanc\\|crash\\|join\\|commit\\|stopp' | tail -n 40`).catch((e: Error) => e.message);
    parts.push(`${h} consumer ${state}:\n${j}`);
  }
  return parts.join('\n');
}

/** `until`, with the pipeline's state in the error when it runs out. */
async function waitStaged(what: string, upTo: Record<string, number>): Promise<void> {
  try {
    await until(what, RECOVERY_BOUND_MS, () => stagedUpTo(upTo));
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await diagnose(upTo)}`);
  }
}

interface FaultRow {
  fault: string;
  injectedAt: string;
  /** from the clear (or, for the consumer host, the injection) until whole and staged */
  recoveredS: number;
  ledger: LedgerCount;
  /** times systemd restarted the producer during this fault */
  producerRestarts: number;
}
const rows: FaultRow[] = [];
const clock = () => new Date().toISOString().slice(11, 19);

function table(): string {
  const head = '| fault | injected at | recovered after | acknowledged / staged / in the lake | superseded | lost | duplicated | producer restarts |\n|---|---|---|---|---|---|---|---|';
  return [
    head,
    ...rows.map(
      (r) =>
        `| ${r.fault} | ${r.injectedAt} | ${r.recoveredS.toFixed(0)} s | ${r.ledger.acknowledged} / ${r.ledger.staged.distinct} / ${r.ledger.lakeRows} | ${r.ledger.superseded} | ${r.ledger.lost} | ${r.ledger.duplicated} | ${r.producerRestarts} |`,
    ),
    '(superseded: records whose business key a later record carries, after a producer restart replayed its source; the lake holds the later one)',
  ].join('\n');
}

/** The producer's restarts by systemd and its journal's lines about them: a producer that restarts begins
 * its simulated walk again, so its records repeat business keys the lake then holds once (not a loss, but
 * no producer should need a restart for any of these faults). */
async function producerRestarts(): Promise<{ restarts: number; lines: string }> {
  const restarts = Number((await cluster.show('app-1', 'kafkalake-producer', ['NRestarts'])).NRestarts ?? -1);
  const lines = await cluster
    .ssh('app-1', `journalctl -u kafkalake-producer -o cat --no-pager | grep -v '"level":"debug"' | grep -v 'kafkajs' | grep -i 'error\\|fatal\\|fail\\|stopp\\|producing\\|exit' | tail -n 20`)
    .catch((e: Error) => e.message);
  return { restarts, lines };
}

/** NRestarts of the producer when the faults began (set by the pipeline test) */
let restartsBefore = 0;

async function record(t: ExecutionContext, fault: string, injectedAt: string, recoveredMs: number): Promise<void> {
  const upTo = await until('the topic\'s end offsets', 60_000, offsets);
  // a producer restarted by systemd (kafkajs' idempotent producer can fail for good with
  // OUT_OF_ORDER_SEQUENCE_NUMBER when leaders move: then the daemon exits and systemd starts it again)
  // replays its source: reported, and the ledger holds the lake to one row per business key
  const p = await producerRestarts();
  const restarts = p.restarts - restartsBefore;
  restartsBefore = p.restarts;
  if (restarts > 0) t.log(`${fault}: systemd restarted the producer ${restarts} time(s); its journal:\n${p.lines}`);
  const { count: l, took } = await ledger(upTo, restarts > 0);
  t.log(`${fault}: ledger ${took}`);
  rows.push({ fault, injectedAt, recoveredS: recoveredMs / 1000, ledger: l, producerRestarts: restarts });
  t.log(`${fault}: recovered after ${(recoveredMs / 1000).toFixed(0)} s; ${JSON.stringify(l)}`);
  if (l.staged.rows > l.staged.distinct) {
    // staging holds records twice: two consumers wrote a partition at once; what each said of its partitions
    for (const h of APP_HOSTS.filter((x) => DAEMONS_ON[x]?.includes('consumer'))) {
      const said = await cluster
        .ssh(
          h,
          // the group's changes and the batches dropped; commits that failed (many while the coordinator moves) only counted
          `J=$(journalctl -u kafkalake-consumer -o cat --no-pager --since '-15min'); echo "$J" | grep -c 'offset commit failed'; ` +
            `echo "$J" | grep -E 'joined the group|assigned|previous owner|dropped|rebalanc|not aware of this member|Crash' | tail -40 || true`,
          60_000,
        )
        .catch((e: Error) => e.message);
      t.log(`${fault}: consumer on ${h}:\n${said}`);
    }
  }
  t.is(l.lost, 0, `${fault}: acknowledged records not in the lake: ${l.examples.join(', ')}`);
  t.is(l.duplicated, 0, `${fault}: duplicates: ${l.examples.join(', ')}`);
  t.is(l.missing, 0, `${fault}: records of the topic not in the lake: ${l.examples.join(', ')}`);
  t.is(l.notInTopic, 0, `${fault}: lake rows that are no record: ${l.examples.join(', ')}`);
  t.true(l.acknowledged > 0 && l.acknowledged <= l.inTopic, `${fault}: ${l.acknowledged} acknowledged of ${l.inTopic}`);
  t.is(l.staged.distinct, l.inTopic, `${fault}: every record staged`);
}

/** A stopwatch of a test's phases: took('x') ends phase x; summary() lists them with their seconds. */
function phases(): ((what: string) => void) & { summary: () => string } {
  const done: string[] = [];
  let last = Date.now();
  const took = (what: string) => {
    done.push(`${what} ${Math.round((Date.now() - last) / 1000)} s`);
    last = Date.now();
  };
  return Object.assign(took, { summary: () => `phases: ${done.join(', ')}` });
}

/** A host powered off and back on: the cluster loses it and takes it back whole. The host is powered on
 * again whatever happens while it is off, so one fault that fails leaves the next tests a whole cluster.
 * atOnce runs right after the cut, whileOff once the cluster has seen the broker gone. */
async function powerCycle(t: ExecutionContext, fault: string, host: HostName, whileOff?: () => Promise<void>, atOnce?: () => Promise<void>): Promise<void> {
  const injectedAt = clock();
  await cluster.powerOff(host);
  let before: Record<string, number> | undefined;
  let cleared = 0;
  const took = phases();
  try {
    if (atOnce) {
      await atOnce();
      took('at once');
    }
    await sleep(20_000);
    // when the host held the ZooKeeper leader (and perhaps the controller), the broker leaves the cluster
    // only after a new ZooKeeper leader, its session's expiry (18 s) and a controller failover
    const d = await until('the cluster to see the broker gone', 150_000, async () => {
      const x = await describe();
      return x.brokers.length === 2 ? x : undefined;
    });
    took('broker gone');
    t.true(d.partitions.some((p) => p.isr.length < p.replicas.length), `${fault}: partitions under-replicated while ${host} is off`);
    t.true(d.partitions.every((p) => !p.offline), `${fault}: no partition offline (replication factor 3)`);
    if (whileOff) await whileOff();
    took('while off');
    before = await until('the topic\'s end offsets', 60_000, offsets);
  } finally {
    cleared = Date.now();
    await cluster.powerOn(host);
    took('power on');
  }
  await until(`${host}'s broker back and every partition in sync`, RECOVERY_BOUND_MS, whole);
  took('whole');
  await waitStaged('staging holds every record produced before the clear', before);
  took('staged');
  const recovered = Date.now() - cleared;
  await record(t, fault, injectedAt, recovered);
  took('ledger');
  t.log(`${fault}: ${took.summary()}`);
}

/** `kafkalake status` on app-1 (the kafkalake command the role installs), with its exit code. */
async function status(): Promise<{ code: number; text: string }> {
  const out = await cluster.ssh('app-1', 'kafkalake status; echo "exit=$?"', 90_000);
  return { code: Number(/exit=(\d+)\s*$/.exec(out)?.[1] ?? -1), text: out };
}

test.serial('slow: a broker host powered off and back under load: nothing acknowledged is lost, nothing doubled', async (t) => {
  t.timeout(15 * 60_000);
  if (!needsCluster(t)) return;
  await powerCycle(t, 'broker host off (kafka-3)', 'kafka-3', async () => {
    // the product sees it: status names the missing broker, and the under-replicated alarm fires
    const seen = await until('status on app-1 with the broker missing and the under-replicated alarm in ALARM', 150_000, async () => {
      const s = await status();
      return /^CLUSTER\s+2\/3 brokers up/m.test(s.text) && /ALARM \S*under-replicated-partitions/.test(s.text) ? s : undefined;
    }, 5000).catch(async (e: Error) => ({ code: -1, text: `${e.message}\n${(await status()).text}` }));
    t.regex(seen.text, /^CLUSTER\s+2\/3 brokers up/m, seen.text);
    t.regex(seen.text, /ALARM \S*under-replicated-partitions/, seen.text);
    t.is(seen.code, 3, 'unhealthy');
  });
});

test.serial('slow: the ZooKeeper leader’s host powered off and back: a new leader, the cluster goes on', async (t) => {
  t.timeout(15 * 60_000);
  if (!needsCluster(t)) return;
  // the server's mode, or what it answered instead (a failure then says why: not serving, no connection, ...)
  const mode = async (h: HostName) => {
    const said = await cluster.zk(h, 'srvr');
    return /Mode: (\w+)/.exec(said)?.[1] ?? `none (${said.trim().split('\n')[0]?.slice(0, 120) ?? ''})`;
  };
  const modes = await Promise.all(KAFKA_HOSTS.map(async (h) => [h, await mode(h)] as const));
  const leader = modes.find(([, m]) => m === 'leader')?.[0];
  t.truthy(leader, `srvr: ${JSON.stringify(modes)}`);
  const others = KAFKA_HOSTS.filter((h) => h !== leader);
  const cut = Date.now();
  let now: string[] = [];
  // the election, timed from the power cut: the followers notice the leader gone after syncLimit × tickTime
  // (10 s) without a packet from it, then elect among themselves
  const elected = async () => {
    try {
      await until('a new ZooKeeper leader among the other two', ELECTION_BOUND_MS, async () => {
        now = await Promise.all(others.map(mode));
        return now.includes('leader') ? now : undefined;
      });
      t.log(`a new ZooKeeper leader ${Math.round((Date.now() - cut) / 1000)} s after the power cut: ${others.map((h, i) => `${h} ${now[i]}`).join(', ')}`);
    } catch (err) {
      throw new Error(`${(err as Error).message}; srvr last said ${others.map((h, i) => `${h} ${now[i] ?? 'nothing'}`).join(', ')}\n${await zkJournals(others)}`);
    }
  };
  await powerCycle(t, `ZooKeeper leader's host off (${leader})`, leader!, async () => {
    // still two in the ensemble, one leading, once the brokers have moved (a leader that lost its follower
    // since would show here: the servers then elect again, within the same bound)
    const both = await until('one leader and one follower among the other two, after the brokers moved', ELECTION_BOUND_MS, async () => {
      now = await Promise.all(others.map(mode));
      return [...now].sort().join() === 'follower,leader' ? now : undefined;
    }).catch(async (err: Error) => `${err.message}; srvr last said ${others.map((h, i) => `${h} ${now[i] ?? 'nothing'}`).join(', ')}\n${await zkJournals(others)}`);
    t.deepEqual(typeof both === 'string' ? both : [...both].sort(), ['follower', 'leader']);
  }, elected);
  // the old leader's ZooKeeper rejoins once booted (a wait: its broker, in sync by now, may have reached
  // the ensemble through another server before its own had synced)
  let back: string[] = [];
  const rejoined = await until('the old leader back in the ensemble as a follower', ELECTION_BOUND_MS, async () => {
    back = await Promise.all(KAFKA_HOSTS.map(mode));
    return [...back].sort().join() === 'follower,follower,leader' ? back : undefined;
  }).catch(async (err: Error) => {
    const unit = await cluster.ssh(leader!, 'systemctl show zookeeper -p ActiveState,SubState,NRestarts,ExecMainStartTimestamp').catch((e: Error) => e.message);
    return `${err.message}; srvr last said ${KAFKA_HOSTS.map((h, i) => `${h} ${back[i] ?? 'nothing'}`).join(', ')}; ${leader} ${unit.replace(/\n/g, ' ')}\n${await zkJournals(KAFKA_HOSTS)}`;
  });
  t.deepEqual(typeof rejoined === 'string' ? rejoined : [...rejoined].sort(), ['follower', 'follower', 'leader'], 'the old leader rejoined as a follower');
});

/** What the ZooKeeper servers logged about the election, for a failure's message. */
async function zkJournals(hosts: HostName[]): Promise<string> {
  const parts = await Promise.all(
    hosts.map(async (h) => {
      const j = await cluster
        .ssh(
          h,
          `journalctl -u zookeeper -o short-precise --no-pager --since=-5min | grep -E 'LOOKING|LEADING|FOLLOWING|WARN|ERROR|Exception|election|Notification' | tail -n 40; ` +
            `echo '-- the last lines, unfiltered:'; journalctl -u zookeeper -o short-precise --no-pager -n 15`,
        )
        .catch((e: Error) => e.message);
      return `${h} zookeeper:\n${j}`;
    }),
  );
  return parts.join('\n');
}

test.serial('slow: a consumer host powered off: the other consumer takes its partitions and stages everything', async (t) => {
  t.timeout(15 * 60_000);
  if (!needsCluster(t)) return;
  const injectedAt = clock();
  const before = await until('the topic\'s end offsets', 60_000, offsets);
  const off = Date.now();
  await cluster.powerOff('app-3');
  try {
    // the records produced before the power cut, half of them app-3's to stage, are staged by app-2
    await waitStaged('staging holds every record produced before the power cut', before);
    const recovered = Date.now() - off;
    const after = await until('the topic\'s end offsets', 60_000, offsets);
    await waitStaged('app-2 keeps staging new records alone', after);
    await record(t, 'consumer host off (app-3)', injectedAt, recovered);
  } finally {
    await cluster.powerOn('app-3');
  }
  await until('the consumer on app-3 back (systemd starts it at boot)', 120_000, async () =>
    (await cluster.show('app-3', 'kafkalake-consumer', ['ActiveState'])).ActiveState === 'active' ? true : undefined,
  );
});

test.serial('slow: a rolling restart of the Kafka tier by `site.yml --tags kafka` after a config change, one broker at a time, each in sync before the next', async (t) => {
  t.timeout(20 * 60_000);
  if (!needsCluster(t)) return;
  const since = async () =>
    Object.fromEntries(await Promise.all(KAFKA_HOSTS.map(async (h) => [h, Number((await cluster.show(h, 'kafka', ['ActiveEnterTimestampMonotonic'])).ActiveEnterTimestampMonotonic)] as const)));
  const wall = async () =>
    Object.fromEntries(await Promise.all(KAFKA_HOSTS.map(async (h) => [h, Date.parse((await cluster.show(h, 'kafka', ['ActiveEnterTimestamp'])).ActiveEnterTimestamp ?? '')] as const)));
  const t0 = await since();
  const injectedAt = clock();
  const started = Date.now();
  const r = await cluster.playbook(inventory({ kafka_extra_properties: { 'log.cleaner.backoff.ms': 16000 } }), ['--tags', 'kafka']);
  t.is(r.code, 0, summary(r));
  const t1 = await since();
  for (const h of KAFKA_HOSTS) t.true((t1[h] ?? 0) > (t0[h] ?? 0), `${h} restarted`);
  // one at a time: each broker waited for no under-replicated partition after its restart
  // (the tasks a handler includes show as RUNNING HANDLER)
  const waits = r.output.split('\n').filter((l) => /(TASK|RUNNING HANDLER) \[kafka : Wait until no partition is under-replicated\]/.test(l)).length;
  t.is(waits, 3, 'the in-sync wait ran after each restart');
  const order = Object.entries(await wall()).sort((a, b) => a[1] - b[1]);
  t.log(`restart order: ${order.map(([h, at]) => `${h} ${new Date(at).toISOString().slice(11, 19)}`).join(', ')}`);
  for (const h of KAFKA_HOSTS) t.regex(await cluster.ssh(h, 'cat /etc/kafka/server.properties'), /log\.cleaner\.backoff\.ms=16000/);
  await until('every partition in sync', RECOVERY_BOUND_MS, whole);
  const recovered = Date.now() - started;
  await record(t, 'rolling restart of the brokers (site.yml --tags kafka)', injectedAt, recovered);
});

test.serial('the faults, in a table; `kafkalake status` on app-1 healthy after them', async (t) => {
  t.timeout(5 * 60_000);
  if (!needsCluster(t)) return;
  t.log(`\n${table()}`);
  t.true(rows.length >= 4, table());
  const healthy = await until('kafkalake status healthy on app-1', 180_000, async () => {
    const s = await status();
    return s.code === 0 ? s : undefined;
  }, 10_000).catch(async (e: Error) => ({ code: -1, text: `${e.message}\n${(await status()).text}` }));
  t.is(healthy.code, 0, healthy.text);
  t.regex(healthy.text, /^CLUSTER\s+3\/3 brokers up, controller \d; 0 under-replicated, 0 offline partitions/m, healthy.text);
});
