// Consumer benchmark: Kafka → durable staging (gzip JSON lines in the twin's S3, offsets committed) with the
// real command `kafkalake consume --once` (its own process) on a pre-filled topic, against two anchors on
// the same topic in the same run (raw consume, no processing: the ceilings): Kafka's own ConsumerPerformance
// from the same jars, and kcat (librdkafka) reading the topic to its end; alternating runs, median of 3,
// the ratios to each, and the consumer's peak RSS. Then staging freshness: the
// consumer daemon running while records are sent at a steady 10,000/s, each carrying its send time; an
// object's visibility time is when a LIST (every 100 ms) first shows it, so the latencies are upper bounds.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import type { TestStack } from '../helpers/stack.js';
import { unique } from '../helpers/stack.js';
import { type Benchmark, type BenchContext, fmt, machine, median, vmRss } from './harness.js';
import { createTopic, produce, simulated } from '../integration/consumer-helpers.js';

const CLI = path.join(PROJECT_ROOT, 'dist/daemons/cli/main.js');

export const CONSUMER_BENCH_NOTES = [
  '*Reading these figures.* ConsumerPerformance only fetches bytes. The consumer, on its one worker thread, also decodes',
  'every record batch in JavaScript (kafkajs), checks every value (UTF-8, JSON.parse, an object, then one scan of its text for a key given twice, the depth and the',
  'longest number: the DLQ rules), adds the',
  'envelope, gzips each object (level 6), PUTs it and commits. Open objects are encoded to Buffers every 512 lines, outside the',
  'JS heap (held as strings they had filled the 128 MB heap: 23,068 records/s before, and drains of large backlogs died out of',
  'memory). The levers are consumer.maxHeapMb (less GC, more RSS), consumer.partitionsConcurrently',
  'and flush.maxRecords. Staging freshness is bounded below by flush.intervalMs (1 s) plus a PUT; it also needs the sender to',
  'reach 10,000 records/s (see "records sent at"; the whole pipeline\'s freshness is in its own section). The broker, the twin,',
  'the anchors and the consumer share the machine\'s cores: on a loaded machine (see the load average above) read the figures as lower bounds.',
].join(' ');
const PARTITIONS = 6;
const RUNS = 3;

export interface Run {
  recordsPerS: number;
  mbPerS: number;
  seconds: number;
  /** the whole process, start to exit */
  wall?: number;
  peakRss?: number;
}

function exec(
  cmd: string,
  args: string[],
  timeoutMs: number,
  sample = false,
  onStdout?: (d: Buffer) => void,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number; peakRss: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peakRss = 0;
    const sampler = sample ? setInterval(() => (peakRss = Math.max(peakRss, vmRss(child.pid ?? 0))), 100) : undefined;
    child.stdout.on('data', onStdout ?? ((d: Buffer) => (stdout += d.toString())));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(cmd)} ${args.slice(0, 3).join(' ')} took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(guard);
      clearInterval(sampler);
      resolve({ code, stdout, stderr, ms: performance.now() - t0, peakRss });
    });
  });
}

export async function consumerPerformance(stack: TestStack, topic: string, n: number, bytes: number): Promise<Run> {
  const lib = stack.handle.settings.libDir;
  const r = await exec(
    'java',
    ['-Xmx256m', '-cp', `${lib}/*`, 'org.apache.kafka.tools.ConsumerPerformance', '--bootstrap-server', stack.brokers.join(','), '--topic', topic, '--messages', String(n), '--group', unique('bench-cp'), '--timeout', '60000'],
    600_000,
  );
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const line = r.stdout.trim().split('\n').pop() ?? '';
  const cells = line.split(',').map((s) => s.trim());
  const nMsg = Number(cells[4]);
  const perS = Number(cells[5]);
  if (r.code !== 0 || !(nMsg >= n) || !Number.isFinite(perS)) throw new Error(`ConsumerPerformance failed (exit ${r.code}): ${r.stdout.trim().slice(-300)} ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return { recordsPerS: perS, mbPerS: (perS * bytes) / n / 1e6, seconds: n / perS };
}

/** kcat reading the whole topic (no group, every partition from the beginning, exit at the end): one
 * newline per record (`-f '\\n'`), counted; wall time from spawn to exit, librdkafka's start included. */
async function kcat(stack: TestStack, topic: string, n: number, bytes: number): Promise<Run> {
  let lines = 0;
  const r = await exec('kcat', ['-C', '-b', stack.brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '\\n'], 600_000, false, (d: Buffer) => {
    for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) lines++;
  });
  if (r.code !== 0 || lines !== n) throw new Error(`kcat read ${lines} of ${n} records (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  const s = r.ms / 1000;
  return { recordsPerS: n / s, mbPerS: bytes / s / 1e6, seconds: s };
}

/** `kafkalake consume --once` draining `topic` (n records, `bytes` of values) into a fresh bucket. */
export async function consumeOnce(stack: TestStack, topic: string, n: number, bytes: number): Promise<Run> {
  const bucket = await stack.bucket();
  const cfg = stack.configFile({ kafka: { topic }, aws: { bucket }, consumer: { groupId: unique('bench-g') }, metrics: { enabled: false } });
  const r = await exec(process.execPath, [CLI, 'consume', '--once', '--config', cfg], 900_000, true);
  const m = /^staged (\d+) records, (\d+) to the DLQ/m.exec(r.stdout);
  if (r.code !== 0 || !m || Number(m[1]) !== n) throw new Error(`kafkalake consume --once failed (exit ${r.code}): ${r.stdout.trim()} ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
  // the command's own time (worker start, join, recovery, staging, commit), like ConsumerPerformance's,
  // which excludes the JVM's start; node's start and module loading come on top (wall)
  const s = Number(/\(([\d.]+) s\)$/m.exec(r.stdout)?.[1] ?? r.ms / 1000);
  return { recordsPerS: n / s, mbPerS: bytes / s / 1e6, seconds: s, wall: r.ms / 1000, peakRss: r.peakRss };
}

function* timedMessages(count: number) {
  for (let i = 0; i < count; i++) {
    const r = simulated(i);
    yield { key: r.index, value: JSON.stringify({ ...r, sent_ms: Date.now() }) };
  }
}

async function freshness(ctx: BenchContext, stack: TestStack, seconds: number): Promise<{ p50: number; p99: number; max: number; records: number; rate: number }> {
  const topic = unique('bench-fresh');
  const bucket = await stack.bucket();
  await createTopic(stack.brokers, topic, PARTITIONS);
  const cfg = stack.configFile({ kafka: { topic }, aws: { bucket }, consumer: { groupId: unique('bench-g') }, metrics: { enabled: false } });
  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  const child = spawn(process.execPath, [CLI, 'consumer', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const seen = new Map<string, number>();
  let polling = true;
  const poll = (async () => {
    while (polling) {
      let token: string | undefined;
      do {
        const page = await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `staging/${topic}/`, ...(token ? { ContinuationToken: token } : {}) }));
        const at = Date.now();
        for (const o of page.Contents ?? []) if (o.Key && !seen.has(o.Key)) seen.set(o.Key, at);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    // wait until the consumer has joined, so the start-up is not counted as staleness
    const until = Date.now() + 60_000;
    while (!out.includes('"message":"joined the group"') && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    const count = seconds * 10_000;
    ctx.say(`  freshness: ${fmt(count)} records at 10,000/s`);
    const t0 = Date.now();
    await produce(stack.brokers, topic, timedMessages(count), { batch: 500, rate: 10_000 });
    const rate = count / ((Date.now() - t0) / 1000);
    const end = Date.now() + 30_000;
    let staged = 0;
    while (Date.now() < end) {
      staged = 0;
      for (const k of seen.keys()) {
        const m = /\+(\d{20})\+(\d{20})\.jsonl\.gz$/.exec(k);
        if (m) staged += Number(m[2]) - Number(m[1]) + 1;
      }
      if (staged >= count) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    polling = false;
    await poll;
    const lat: number[] = [];
    for (const [key, at] of seen) {
      const r = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text = gunzipSync(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).toString('utf8');
      for (const line of text.split('\n')) if (line) lat.push(at - (JSON.parse(line) as { sent_ms: number }).sent_ms);
    }
    lat.sort((a, b) => a - b);
    const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
    return { p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1] ?? NaN, records: lat.length, rate };
  } finally {
    polling = false;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    aws.destroy();
  }
}

/** A fresh topic of PARTITIONS partitions and `replication` replicas filled with n simulated records; their values' bytes. */
export async function prefill(stack: TestStack, topic: string, n: number, replication = 1): Promise<number> {
  await createTopic(stack.brokers, topic, PARTITIONS, replication);
  let bytes = 0;
  const messages = function* () {
    for (let i = 0; i < n; i++) {
      const r = simulated(i);
      const value = JSON.stringify(r);
      bytes += value.length;
      yield { key: r.index, value };
    }
  };
  await produce(stack.brokers, topic, messages(), { batch: 2000 });
  return bytes;
}

export const consumerBench: Benchmark = {
  name: 'consumer',
  section: 'Consumer',
  async run(ctx) {
    const stack = await ctx.stack();
    const n = ctx.quick ? 50_000 : 2_000_000;
    const topic = unique('bench-consume');
    ctx.say(`  pre-filling ${fmt(n)} simulated records`);
    const bytes = await prefill(stack, topic, n);
    const cp: Run[] = [];
    const us: Run[] = [];
    const kc: Run[] = [];
    // a failed run of the consumer is a finding: said in the section, the other runs still measured
    const failed: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      ctx.say(`  run ${i + 1}/${RUNS}: ConsumerPerformance`);
      cp.push(await consumerPerformance(stack, topic, n, bytes));
      ctx.say(`  run ${i + 1}/${RUNS}: kafkalake consume --once`);
      try {
        us.push(await consumeOnce(stack, topic, n, bytes));
      } catch (err) {
        failed.push(`run ${i + 1}: ${err instanceof Error ? err.message : String(err)}`);
        ctx.say(`  run ${i + 1}/${RUNS}: kafkalake consume --once failed: ${failed[failed.length - 1]}`);
      }
      ctx.say(`  run ${i + 1}/${RUNS}: kcat`);
      kc.push(await kcat(stack, topic, n, bytes));
      ctx.say(`  run ${i + 1}/${RUNS}: ConsumerPerformance ${fmt(cp[i]?.recordsPerS ?? NaN)}, kafkalake ${fmt(us[us.length - 1]?.recordsPerS ?? NaN)}, kcat ${fmt(kc[i]?.recordsPerS ?? NaN)} records/s`);
    }
    if (us.length === 0) throw new Error(`every run of kafkalake consume --once failed; first: ${failed[0] ?? '?'}`);
    const fresh = await freshness(ctx, stack, ctx.quick ? 5 : 30);
    const medOurs = median(us.map((r) => r.recordsPerS));
    const medCp = median(cp.map((r) => r.recordsPerS));
    const medKc = median(kc.map((r) => r.recordsPerS));
    const range = (rs: Run[], f: (r: Run) => number, d = 0) => `${fmt(Math.min(...rs.map(f)), d)}–${fmt(Math.max(...rs.map(f)), d)}`;
    const row = (name: string, rs: Run[]) => {
      const m = median(rs.map((r) => r.recordsPerS));
      return `| ${name} | ${fmt(m)} (${range(rs, (r) => r.recordsPerS)}) | ${fmt(median(rs.map((r) => r.mbPerS)), 1)} | ${fmt(median(rs.map((r) => r.seconds)), 1)} | ${rs === cp ? '1 (anchor)' : fmt(m / medCp, 2)} | ${rs === kc ? '1 (anchor)' : fmt(m / medKc, 2)} |`;
    };
    return [
      `Measured by \`test/bench/consumer.ts\` on ${machine()}; the local stack (one broker, 512 MB heap) and the AWS twin on the same 2 cores${ctx.quick ? '; **quick mode** (small sizes)' : ''}.`,
      '',
      `**Throughput, Kafka → durable staging**: a topic of ${PARTITIONS} partitions pre-filled with ${fmt(n)} simulated records (${fmt(bytes / n)} B average JSON value, ${fmt(bytes / 1e6, 1)} MB), drained by \`kafkalake consume --once\` (its own measured time: worker start, group join, recovery from S3, decode, gzip, PUT to the twin, commit; node's own start adds ${fmt(median(us.map((r) => (r.wall ?? r.seconds) - r.seconds)), 1)} s of wall time on top), and by two anchors that only fetch (raw consume, no processing): Kafka's \`ConsumerPerformance\` from the same jars (its own measured time, without the JVM's start) and kcat ${'`'}kcat -C -b BROKER -t TOPIC -o beginning -e -q -f '\\n'${'`'} (librdkafka, no group; one newline per record, counted; wall time from spawn to exit). Alternating, ${RUNS} runs each, median (min–max).`,
      '',
      '| | records/s | MB/s | seconds | ratio to ConsumerPerformance | ratio to kcat |',
      '|---|---:|---:|---:|---:|---:|',
      row('kafkalake consume --once', us),
      row('ConsumerPerformance (anchor)', cp),
      row('kcat (anchor)', kc),
      '',
      `Ratio kafkalake / ConsumerPerformance (records/s, medians): **${fmt(medOurs / medCp, 2)}** (target ≥ 0.5); kafkalake / kcat: **${fmt(medOurs / medKc, 2)}**.`,
      ...(failed.length ? ['', `**${failed.length} of ${RUNS} runs of kafkalake consume --once failed** (the figures above are over the other ${us.length}): ${failed.join('; ')}`] : []),
      '',
      `Peak RSS of the consumer process (sampled every 100 ms): median ${fmt(median(us.map((r) => (r.peakRss ?? 0) / 1048576)))} MB (${range(us, (r) => (r.peakRss ?? 0) / 1048576)} MB), with the defaults consumer.maxHeapMb = 128 and consumer.maxBufferedBytes = 64 MB (open batches are capped at a third of the heap, 42 MB).`,
      '',
      `**Staging freshness** (send → object visible in a LIST, polled every 100 ms): the consumer daemon running with the default flush (1 s / 50,000 records / 16 MB), ${fmt(fresh.records)} records sent at ${fmt(fresh.rate)} records/s (target 10,000/s): p50 **${fmt(fresh.p50)} ms**, p99 **${fmt(fresh.p99)} ms** (target < 2,000 ms), max ${fmt(fresh.max)} ms. One run.`,
      '',
      CONSUMER_BENCH_NOTES,
    ].join('\n');
  },
};
