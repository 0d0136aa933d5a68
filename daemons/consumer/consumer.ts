// The consumer service: a kafkajs group member that lands its partitions in S3 staging, exactly once.
//
// - Every partition has one open batch. eachBatch adds records to it; a full batch is written at once
//   (inside eachBatch, so kafkajs does not rejoin the group while a PUT is running), an old one by the
//   tick timer. Writing: DLQ object first, then the staging object (always, even with no good line, so
//   the object names cover every offset), then the group offset is committed.
// - Work on one partition is serialised by a per-partition lock (eachBatch, the timer, recovery).
// - On every assignment, each partition's position is recovered from S3 (recovery.ts) and the consumer
//   seeks there; a record at or below it is skipped. Before the first PUT of an assignment the position is
//   read again, so a batch of the previous owner that landed late is not written twice.
// - A rebalance drops the open batches (their offsets are not committed; the new owner re-reads them).
// - Fencing: a member that cannot reach its coordinator (or stalls: a GC pause, a stopped VM) goes on
//   fetching from the partition leaders, but the group may already have given its partitions to another
//   member, which resumed from S3: a PUT of the old owner after that stages records twice. So a PUT starts
//   only under a lease: the coordinator answered a heartbeat (or the join) sent less than half a session
//   timeout ago; it expires a member a whole session timeout after its last heartbeat. When the lease has
//   lapsed the consumer heartbeats first; if that fails the batch is dropped and its offsets re-read.
// - Memory: open batches hold at most consumer.maxBufferedBytes (then the batch is written early), and
//   while a PUT cannot be made the eachBatch call waits, so kafkajs stops fetching.
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../lib/config/index.js';
import { isRetriable, KafkalakeError, oneLine } from '../lib/errors.js';
import type { Service } from '../lib/lifecycle.js';
import type { Logger } from '../lib/log.js';
import type { Metrics } from '../lib/metrics.js';
import { add, type Batch, isDue, isFull, ndjson, openBatch, records, trimThrough } from './batch.js';
import { dtOf, objectKey } from './naming.js';
import { toLine } from './records.js';
import { createLease, LeaseLapsed } from './lease.js';
import { findPosition } from './recovery.js';
import { createStager, FencedError } from './stager.js';
import { waitForTopic } from '../lib/topic.js';

/** how often a consumer waiting for its topic looks again */
const TOPIC_RETRY_MS = 2000;

/** kafkajs' own errors (rebalance in progress, ...) are its to handle */
const isKafkaError = (err: unknown): boolean => err instanceof Error && err.name.startsWith('KafkaJS');

export interface ConsumerDeps {
  config: Readonly<Config>;
  kafka: Kafka;
  s3: S3Client;
  metrics: Metrics;
  log: Logger;
  /** drain: take the high watermarks at start, stage up to them, then finish (done resolves) */
  once?: boolean;
  now?: () => number;
  /** stop waiting for the topic (the daemon is stopping before it started) */
  signal?: AbortSignal;
}

export interface ConsumerStats {
  recordsIn: number;
  staged: number;
  dead: number;
  skipped: number;
  objects: number;
}

interface PartitionState {
  /** highest offset known to be in staging (ours or a previous owner's); -1: none */
  staged: number;
  /** recovered from S3 for the current generation */
  recovered: boolean;
  /** re-checked S3 right before the first PUT of this generation */
  verified: boolean;
  /** the next batch starts here: a batch dropped for a lapsed lease is re-read from its first offset */
  resumeAt: number | undefined;
  closeAt: number | undefined;
  batch: Batch | undefined;
  lock: Promise<void>;
}

export async function startConsumer(deps: ConsumerDeps): Promise<Service & { stats(): ConsumerStats }> {
  const { config, kafka, s3, metrics } = deps;
  const c = config.consumer;
  const topic = config.kafka.topic;
  const bucket = config.aws.bucket;
  const prefix = c.stagingPrefix;
  const log = deps.log.child({ component: 'consumer', topic });
  const now = deps.now ?? Date.now;
  const dims = { topic };
  const stager = createStager({ s3, bucket, log });
  const stats: ConsumerStats = { recordsIn: 0, staged: 0, dead: 0, skipped: 0, objects: 0 };

  if (!bucket) throw new KafkalakeError('no bucket configured (aws.bucket)', { where: 'config aws.bucket' });
  // the producer (or `kafkalake up`, or the operator) creates the topic; this side waits for it (lib/topic.ts
  // says why). A drain (--once) does not wait: it stages what is there now, and a missing topic is an error.
  await waitForTopic({
    kafka,
    brokers: config.kafka.brokers,
    topic,
    log,
    timeoutMs: deps.once ? 0 : c.topicWaitMs,
    retryMs: TOPIC_RETRY_MS,
    ...(deps.signal ? { signal: deps.signal } : {}),
  });

  // open batches are mostly Buffers outside the heap (batch.ts), but what is buffered adds to the RSS the
  // heap already takes: keep it to a third of the heap's size, whatever the config says
  const maxBuffered = Math.min(c.maxBufferedBytes, Math.floor((c.maxHeapMb * 1048576) / 3));
  const parts = new Map<number, PartitionState>();
  let generation = 0;
  let buffered = 0;
  let closing = false;
  let lastHeartbeat: (() => Promise<void>) | undefined;
  const lease = createLease(c.sessionTimeoutMs, now);
  /** kafkajs' single commit attempt, from the batch payload (known from the first batch on) */
  let commitOnce: EachBatchPayload['commitOffsetsIfNecessary'] | undefined;
  let targets: Map<number, number> | undefined; // once: the last offset to stage per partition

  let fail: (err: unknown) => void = () => undefined;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });

  const state = (p: number): PartitionState => {
    let st = parts.get(p);
    if (!st) {
      st = { staged: -1, recovered: false, verified: false, resumeAt: undefined, closeAt: undefined, batch: undefined, lock: Promise.resolve() };
      parts.set(p, st);
    }
    return st;
  };

  /** run fn after everything queued on the partition (never rejects the chain) */
  const withLock = <T>(st: PartitionState, fn: () => Promise<T>): Promise<T> => {
    const run = st.lock.then(fn);
    st.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };

  const dropBatches = (why: string) => {
    let n = 0;
    for (const st of parts.values()) {
      if (st.batch) n += records(st.batch);
      st.batch = undefined;
      st.recovered = false;
      st.verified = false;
      st.resumeAt = undefined;
    }
    buffered = 0;
    if (n > 0) log.info('open batches dropped; their offsets are re-read from the last staged object', { why, records: n });
  };

  const consumer: Consumer = kafka.consumer({
    groupId: c.groupId,
    sessionTimeout: c.sessionTimeoutMs,
    heartbeatInterval: Math.max(500, Math.floor(c.sessionTimeoutMs / 5)),
    rebalanceTimeout: Math.max(c.sessionTimeoutMs, 10_000),
    maxBytesPerPartition: c.fetchMaxBytesPerPartition,
    // a fetch is decoded into JS objects several times its size (kafkajs): bound it by the heap too
    maxBytes: Math.min(10 * 1048576, Math.max(1048576, Math.floor((c.maxHeapMb * 1048576) / 16))),
    maxWaitTimeInMs: 500,
    // never let a metadata request create the topic with the broker's defaults (waitForTopic waits instead)
    allowAutoTopicCreation: false,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
  });

  const checkOnce = () => {
    if (!targets || closing) return;
    for (const [p, last] of targets) if (state(p).staged < last) return;
    log.info('drained to the high watermarks taken at start', { partitions: targets.size });
    finish();
  };

  /**
   * Commit the group offset of one partition, once. Not kafkajs' consumer.commitOffsets alone: that one
   * retries every error as often as the consumer's retry.retries (for ever here), a stale generation
   * included, which only a rejoin can fix; the rejoin waits for eachBatch, and eachBatch for this
   * partition's lock, held by the flush awaiting the commit: after a broker restart moved the group
   * coordinator, the consumer could stage nothing more. Staging is the truth and the next object commits
   * again, so a commit that fails is the caller's to log and leave. From the first batch on, the payload's
   * commitOffsetsIfNecessary(offsets) makes one attempt; before it, consumer.commitOffsets is bounded by
   * the session timeout.
   */
  const commit = async (p: number, offset: number): Promise<void> => {
    const once = commitOnce;
    if (once) return await once({ topics: [{ topic, partitions: [{ partition: p, offset: String(offset) }] }] });
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${c.sessionTimeoutMs} ms`)), c.sessionTimeoutMs);
    });
    try {
      await Promise.race([consumer.commitOffsets([{ topic, partition: p, offset: String(offset) }]), giveUp]);
    } finally {
      clearTimeout(timer);
    }
  };

  /** recover the partition's position from S3 and seek there */
  const recover = async (p: number, gen: number) => {
    const st = state(p);
    if (st.recovered && gen === generation) return;
    const pos = await findPosition({ s3, bucket, prefix }, topic, p);
    if (gen !== generation) return;
    st.staged = pos.staged ?? -1;
    st.closeAt = pos.closeAt;
    st.recovered = true;
    st.verified = true; // just listed
    if (pos.staged !== undefined) {
      consumer.seek({ topic, partition: p, offset: String(pos.staged + 1) });
      // the group offset follows staging: a commit that failed after the last PUT (the broker restarting)
      // would otherwise stay behind until the next object, for ever on a quiet partition, and the lag
      // measured from Kafka (the alarm, `kafkalake status`) would count records that are staged
      await commit(p, pos.staged + 1).catch((err: unknown) => {
        log.warn('offset commit of the recovered position failed (the next object commits again)', { partition: p, error: oneLine(err) });
      });
      if (gen !== generation) return;
    }
    log.info('partition assigned; resuming after the last staged offset', { partition: p, stagedThrough: pos.staged ?? null, closeAt: pos.closeAt ?? null });
    checkOnce();
  };

  const write = async (p: number, st: PartitionState, heartbeat?: () => Promise<void>) => {
    let b = st.batch;
    if (!b) return;
    st.batch = undefined;
    buffered -= b.bytes;
    const gen = b.generation;
    const isCurrent = () => gen === generation;
    if (gen !== generation) return;
    if (!st.verified) {
      const again = await findPosition({ s3, bucket, prefix }, topic, p);
      if (gen !== generation) return;
      st.verified = true;
      if (again.staged !== undefined && again.staged > st.staged) {
        log.warn('a previous owner staged records after this batch was read; skipping them', { partition: p, stagedThrough: again.staged });
        st.staged = again.staged;
        const trimmed = trimThrough(b, again.staged);
        if (!trimmed) return;
        b = trimmed;
      }
    }
    if (!(await lease.hold(heartbeat))) throw new LeaseLapsed(p, lease.remaining());
    // the heartbeat that renewed the lease may have found the member expired: kafkajs rejoined meanwhile
    if (gen !== generation) throw new FencedError(`partition ${p}`);
    const dt = dtOf(new Date(now()));
    const name = { topic, partition: p, first: b.first, last: b.last, dt };
    const opts = { isCurrent, ...(heartbeat ? { heartbeat } : {}) };
    const good = b.good.offsets.length;
    const dead = b.dead.offsets.length;
    if (dead > 0) {
      const r = await stager.put(objectKey(prefix, { ...name, dlq: true }), ndjson(b.dead), opts);
      metrics.timing('PutLatency', r.ms, dims);
      metrics.count('DlqRecords', dead, dims);
      metrics.count('ObjectsWritten', 1, { topic, extra: { Kind: 'dlq' } });
    }
    const r = await stager.put(objectKey(prefix, name), ndjson(b.good), opts);
    metrics.timing('PutLatency', r.ms, dims);
    metrics.count('ObjectsWritten', 1, dims);
    metrics.count('RecordsStaged', good, dims);
    // send → staged for the object's oldest record (its first: offsets and send times rise together)
    if (good > 0 && Number.isFinite(b.sentAt)) metrics.timing('StagedLatency', Math.max(0, now() - b.sentAt), dims);
    metrics.count('BytesStaged', r.bytes, dims, 'Bytes');
    st.staged = b.last;
    st.resumeAt = undefined;
    if (st.closeAt !== undefined && b.last >= st.closeAt) st.closeAt = undefined;
    stats.staged += good;
    stats.dead += dead;
    stats.objects += dead > 0 ? 2 : 1;
    log.debug('object written', { partition: p, first: b.first, last: b.last, records: good, dead, bytes: r.bytes, ms: Math.round(r.ms) });
    try {
      await commit(p, b.last + 1);
    } catch (err) {
      // staging, not the group offset, is the source of truth: the next owner seeks from S3 anyway
      log.warn('offset commit failed (staging is ahead; recovery reads S3)', { partition: p, error: oneLine(err) });
    }
    checkOnce();
  };

  /**
   * write, and turn "the assignment ended" into a quiet drop; false when the batch was dropped for a
   * lapsed lease: the partition is read again from the batch's first offset (the caller stops adding)
   */
  const flush = async (p: number, st: PartitionState, heartbeat?: () => Promise<void>): Promise<boolean> => {
    const b = st.batch;
    try {
      await write(p, st, heartbeat);
      return true;
    } catch (err) {
      if (err instanceof LeaseLapsed && b) {
        log.warn('batch dropped: no answer from the group coordinator for too long to be sure the partition is still ours; re-reading it', {
          partition: p,
          first: b.first,
          last: b.last,
          lapsedForMs: -err.remainingMs,
        });
        if (b.generation === generation) {
          st.resumeAt = b.first;
          st.verified = false; // another member may have held the partition meanwhile: list S3 before the next PUT
          consumer.seek({ topic, partition: p, offset: String(b.first) });
        }
        return false;
      }
      if (err instanceof FencedError) {
        log.info('batch dropped: partition reassigned during the write', { partition: p });
        return false;
      }
      throw err;
    }
  };

  const eachBatch = async (payload: EachBatchPayload) => {
    const { batch } = payload;
    const heartbeat = () => payload.heartbeat();
    lastHeartbeat = heartbeat;
    commitOnce = (offsets) => payload.commitOffsetsIfNecessary(offsets);
    const p = batch.partition;
    const st = state(p);
    const gen = generation;
    await withLock(st, async () => {
      if (closing || gen !== generation) return;
      if (!st.recovered) await recover(p, gen);
      if (gen !== generation) return;
      const next = Math.max(st.staged + 1, st.resumeAt ?? 0);
      const first = Number(batch.firstOffset());
      const lastInBatch = Number(batch.lastOffset());
      if ((st.staged >= 0 || st.resumeAt !== undefined) && !st.batch && (first > next || lastInBatch < next)) {
        // the group offset and staging disagree (S3 wins), or a dropped batch is to be read again
        consumer.seek({ topic, partition: p, offset: String(next) });
        if (lastInBatch < next) stats.skipped += batch.messages.length;
        return;
      }
      const limits = c.flush;
      let bytesIn = 0;
      for (const m of batch.messages) bytesIn += m.value?.length ?? 0;
      metrics.count('RecordsIn', batch.messages.length, dims);
      metrics.count('BytesIn', bytesIn, dims, 'Bytes');
      for (const m of batch.messages) {
        const off = Number(m.offset);
        stats.recordsIn++;
        if (off < next || (st.batch && off <= st.batch.last)) {
          stats.skipped++;
          continue;
        }
        const o = toLine(topic, p, m, c.maxRecordBytes);
        st.batch ??= openBatch(off, now(), gen, Number(m.timestamp));
        const held = st.batch.bytes;
        add(st.batch, off, o);
        buffered += st.batch.bytes - held;
        const end = st.closeAt !== undefined && off >= st.closeAt;
        const target = targets?.get(p);
        const due = isFull(st.batch, limits) || end || (target !== undefined && off >= target) || buffered > maxBuffered;
        if (due && !(await flush(p, st, heartbeat))) return;
        if (gen !== generation || closing) return;
      }
      if (buffered > maxBuffered && st.batch) await flush(p, st, heartbeat);
      const hw = Number(batch.highWatermark);
      metrics.gauge('ConsumerLag', Math.max(0, hw - 1 - lastInBatch), { topic, extra: { Partition: String(p) } });
    });
  };

  // a flush from the timer runs outside eachBatch; it keeps the group alive with the last heartbeat seen
  const tick = () => {
    if (closing) return;
    const t = now();
    for (const [p, st] of parts) {
      const b = st.batch;
      if (b && isDue(b, c.flush, t)) {
        withLock(st, async () => {
          if (st.batch && isDue(st.batch, c.flush, now())) await flush(p, st, lastHeartbeat);
        }).catch((err: unknown) => fail(err));
      }
    }
  };
  // an object closes within a tenth of flush.intervalMs (at most 100 ms) of being due
  const timer = setInterval(tick, Math.max(20, Math.min(100, Math.floor(c.flush.intervalMs / 10))));
  timer.unref();

  const { REBALANCING, GROUP_JOIN, HEARTBEAT, REQUEST, CRASH } = consumer.events;
  // the lease runs from when the request the coordinator answered was sent (lease.ts): kafkajs reports a
  // request's send time when its answer arrives (REQUEST), then what the answer meant (HEARTBEAT, GROUP_JOIN)
  const sentAt = { heartbeat: Number.NEGATIVE_INFINITY, sync: Number.NEGATIVE_INFINITY };
  consumer.on(REQUEST, (e) => {
    const { apiName, sentAt: at } = e.payload as { apiName: string; sentAt: number };
    if (apiName === 'Heartbeat') sentAt.heartbeat = at;
    else if (apiName === 'SyncGroup') sentAt.sync = at;
  });
  consumer.on(HEARTBEAT, () => lease.renew(sentAt.heartbeat));
  consumer.on(REBALANCING, () => {
    generation++;
    dropBatches('rebalance');
  });
  consumer.on(GROUP_JOIN, (e) => {
    generation++;
    lease.renew(sentAt.sync);
    dropBatches('joined the group');
    const mine = e.payload.memberAssignment[topic] ?? [];
    for (const p of [...parts.keys()]) if (!mine.includes(p)) parts.delete(p);
    log.info('joined the group', { partitions: mine, generation });
    const gen = generation;
    for (const p of mine) {
      const st = state(p);
      withLock(st, () => recover(p, gen)).catch((err: unknown) => log.warn('recovery failed; retried on the first batch', { partition: p, error: oneLine(err) }));
    }
  });
  consumer.on(CRASH, (e) => {
    const { error, restart } = e.payload as { error: Error; restart: boolean };
    commitOnce = undefined; // a restarted run has a group of its own: its first batch brings its commit
    if (restart) log.warn('Kafka consumer failed, restarting', { error: oneLine(error) });
    else fail(new KafkalakeError(`Kafka consumer crashed: ${oneLine(error)}`, { where: `kafka ${config.kafka.brokers.join(',')}`, cause: error }));
  });

  if (deps.once) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(topic);
      targets = new Map();
      for (const o of offsets) if (Number(o.high) > Number(o.low)) targets.set(o.partition, Number(o.high) - 1);
    } catch (err) {
      throw new KafkalakeError(`cannot read the end offsets of topic ${topic}: ${oneLine(err)}`, { where: `kafka ${config.kafka.brokers.join(',')}`, cause: err });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    log.info('draining to the current end of every partition', { targets: Object.fromEntries(targets) });
  }

  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: c.partitionsConcurrently,
      eachBatch: async (payload) => {
        try {
          await eachBatch(payload);
        } catch (err) {
          // kafkajs retries what eachBatch throws for ever; a failure retrying cannot fix (no such bucket,
          // access denied) ends the service with its one line instead, and systemd decides
          if (!isRetriable(err) && !(err instanceof FencedError) && !isKafkaError(err)) fail(err);
          throw err;
        }
      },
    });
  } catch (err) {
    clearInterval(timer);
    await consumer.disconnect().catch(() => undefined);
    throw new KafkalakeError(`cannot start consuming ${topic}: ${oneLine(err)}`, { where: `kafka ${config.kafka.brokers.join(',')}`, cause: err });
  }
  log.info('consuming', { groupId: c.groupId, bucket, prefix, maxBufferedBytes: maxBuffered });
  if (targets?.size === 0) finish();

  let closed: Promise<void> | undefined;
  return {
    done,
    stats: () => ({ ...stats }),
    close() {
      closed ??= (async () => {
        clearInterval(timer);
        // still a member: write what is open, commit, then leave the group
        closing = true;
        consumer.pause([{ topic }]);
        for (const [p, st] of parts) {
          await withLock(st, async () => {
            if (!st.batch) return;
            const b = st.batch;
            try {
              await flush(p, st, lastHeartbeat);
            } catch (err) {
              log.error('could not write the open batch at close; it is re-read at the next start', { partition: p, first: b.first, error: oneLine(err) });
            }
          });
        }
        await consumer.disconnect().catch((err: unknown) => log.warn('disconnect failed', { error: oneLine(err) }));
        finish();
        log.info('consumer closed', { ...stats });
      })();
      return closed;
    },
  };
}
