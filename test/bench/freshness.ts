// Freshness benchmark: how long a record takes from its send to each place people can see it, with the
// whole local pipeline running as it does in production: the producer daemon (`--source simulate` at a
// steady rate, or unlimited), the consumer daemon, and the scheduler daemon running the ETL, the crawl
// and the freshness report on a short cron; each its own process, as `kafkalake up` and the systemd units
// run them (their heap limits, the producer at its lower priority: unlimited, it sends what the pipeline
// leaves it of the shared cores).
//
// Each record carries `event_time`, stamped by the producer just before it hands a batch to Kafka (one
// stamp per batch: rate/20 records at a set rate, 2,000 unlimited): every latency is measured from it.
//   send → readable in Kafka: kcat reads the topic live beside the consumer (the anchor: Kafka alone);
//   send → staged: the first LIST (every 250 ms) that shows the staging object holding the record;
//   send → lake: the first read of the ETL bookmark (every 500 ms) that lists that staging object (the
//     bookmark is written after the lake's Parquet files, so they were in place by then);
//   send → report: the first freshness report file (reports/freshness/DATE.csv, listed every 500 ms)
//     whose latest_event_time of the record's index is at or after the record's event_time (an index
//     is a message key: one partition, in order, so the lake holds a prefix of each index's records).
// Every time is an upper bound by its polling interval. Peak RSS per daemon: its process tree's, every 250 ms.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parse as parseCsv } from 'csv-parse/sync';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { oneLine } from '../../daemons/lib/errors.js';
import { type Bookmark, isMerged } from '../../daemons/lib/etl/state.js';
import { DAEMON_NICE } from '../../daemons/cli/up.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { type TestStack, unique } from '../helpers/stack.js';
import { CLI, type Daemon, startDaemon } from './children.js';
import { type Benchmark, type BenchContext, fmt, machine, median, medRange, rssSampler, weightedQuantiles } from './harness.js';
import { createTopic } from '../integration/consumer-helpers.js';

const PARTITIONS = 6;
/** the simulator's symbols: each trading day every one has a bar, so 10,000 records/s is 10 trading days a second */
const SYMBOLS = 1000;
const TABLE = 'stock_market_data';
const REPORT = 'freshness';
const STAGES = ['kafka', 'staged', 'lake', 'report'] as const;
type Stage = (typeof STAGES)[number];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface FreshnessPlan {
  /** records/s; 0: the producer unlimited */
  rates: number[];
  /** how long the producer sends, per run */
  seconds: number;
  runs: number;
  /** the ETL's and the report's cron interval */
  etlEverySeconds: number;
  /** after the producer stops: how long to wait for the last record to reach the report */
  drainSeconds: number;
  /** the producer's nice: its unit's, unless KAFKALAKE_BENCH_FRESHNESS_PRODUCER_NICE says (0: the pipeline's priority) */
  producerNice: number;
}

export function freshnessPlan(quick: boolean, env: NodeJS.ProcessEnv = process.env): FreshnessPlan {
  const base: FreshnessPlan = quick
    ? { rates: [1000], seconds: 20, runs: 1, etlEverySeconds: 10, drainSeconds: 90, producerNice: DAEMON_NICE.producer }
    : { rates: [1000, 10_000, 0], seconds: 60, runs: 3, etlEverySeconds: 5, drainSeconds: 300, producerNice: DAEMON_NICE.producer };
  const num = (v: string | undefined, d: number) => (v === undefined || v === '' ? d : Number(v));
  return {
    ...base,
    rates: env.KAFKALAKE_BENCH_FRESHNESS_RATES ? env.KAFKALAKE_BENCH_FRESHNESS_RATES.split(',').map(Number) : base.rates,
    seconds: num(env.KAFKALAKE_BENCH_FRESHNESS_SECONDS, base.seconds),
    runs: num(env.KAFKALAKE_BENCH_FRESHNESS_RUNS, base.runs),
    producerNice: num(env.KAFKALAKE_BENCH_FRESHNESS_PRODUCER_NICE, base.producerNice),
  };
}

interface Quantiles {
  p50: number;
  p99: number;
  max: number;
  /** records never seen at this stage before the drain deadline (counted as infinitely late) */
  missing: number;
}

export interface FreshnessRun {
  rate: number;
  sent: number;
  /** records/s the producer reached: acknowledged ÷ its own time from first send to last acknowledgement */
  reached: number;
  stages: Record<Stage, Quantiles>;
  /** peak RSS in bytes */
  rss: { producer: number; consumer: number; scheduler: number };
  etlMs: number[];
  reports: number;
  lakeRows: number;
}

/** `2026-11-22 02:30:00.123 UTC` (Athena's), `2026-11-22 02:30:00.123+00`, `2026-11-22T02:30:00.123456Z`, … → epoch ms (NaN if not a timestamp). */
export function parseTimestamp(s: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?\s*(Z|UTC|[+-]\d\d(?::?\d\d)?)?$/.exec(s.trim());
  if (!m) return NaN;
  const n = (i: number) => Number(m[i]);
  let t = Date.UTC(n(1), n(2) - 1, n(3), n(4), n(5), n(6), m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0);
  const z = m[8];
  if (z && z !== 'Z' && z !== 'UTC') {
    const digits = z.slice(1).replace(':', '');
    t -= (z.startsWith('-') ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0)) * 60_000;
  }
  return t;
}

/** `…/T+3+00000000000000000100+00000000000000000199.jsonl.gz` → 100 records */
const recordsIn = (key: string) => {
  const m = /\+(\d{20})\+(\d{20})\.jsonl\.gz$/.exec(key);
  return m ? Number(m[2]) - Number(m[1]) + 1 : 0;
};

const utcDates = (from: number, to: number) => {
  const out: string[] = [];
  for (let d = Math.floor(from / 86_400_000); d <= Math.floor(to / 86_400_000); d++) out.push(new Date(d * 86_400_000).toISOString().slice(0, 10));
  return out;
};

/** Watches the bucket: when each staging object, each bookmark entry and each report version appears. */
function watchBucket(s3: S3Client, bucket: string, topic: string, job: string, since: number) {
  const staged = new Map<string, number>();
  const merged = new Map<string, number>();
  const reports: Array<{ at: number; latest: Map<string, number> }> = [];
  const after = new Map<string, string>();
  let reportTag: string | undefined;
  let errors = 0;
  let lastError = '';
  let running = true;

  const listStaging = async () => {
    const prefixes = utcDates(since, Date.now()).flatMap((dt) => Array.from({ length: PARTITIONS }, (_, p) => `staging/${topic}/dt=${dt}/${topic}+${p}+`));
    await Promise.all(
      prefixes.map(async (prefix) => {
        let token: string | undefined;
        do {
          const start = after.get(prefix);
          const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : start ? { StartAfter: start } : {}) }));
          const at = Date.now();
          for (const o of page.Contents ?? []) {
            if (!o.Key) continue;
            if (!staged.has(o.Key)) staged.set(o.Key, at);
            if (o.Key > (after.get(prefix) ?? '')) after.set(prefix, o.Key);
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      }),
    );
  };

  const body = async (key: string) => {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  };

  const readBookmark = async () => {
    let text: string;
    try {
      text = (await body(`_state/${job}.json`)).toString('utf8');
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return; // no ETL run has merged anything yet
      throw err;
    }
    const at = Date.now();
    const b = JSON.parse(text) as Bookmark;
    const mark = b.tables?.[TABLE];
    for (const k of staged.keys()) if (!merged.has(k) && isMerged(mark, k)) merged.set(k, at);
  };

  const readReport = async () => {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `reports/${REPORT}/` }));
    const at = Date.now();
    const newest = (page.Contents ?? []).filter((o) => o.Key?.endsWith('.csv')).sort((a, b) => ((a.Key ?? '') < (b.Key ?? '') ? 1 : -1))[0];
    if (!newest?.Key || newest.ETag === reportTag) return;
    const rows = parseCsv(await body(newest.Key), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
    const latest = new Map<string, number>();
    for (const r of rows) {
      const t = parseTimestamp(r.latest_event_time ?? '');
      if (r.index !== undefined && Number.isFinite(t)) latest.set(r.index, t);
    }
    reportTag = newest.ETag;
    reports.push({ at, latest });
  };

  const loop = (async () => {
    for (let tick = 0; running; tick++) {
      const t0 = Date.now();
      try {
        await listStaging();
        if (tick % 2 === 0) await Promise.all([readBookmark(), readReport()]);
      } catch (err) {
        errors++;
        lastError = oneLine(err);
      }
      await sleep(Math.max(0, 250 - (Date.now() - t0)));
    }
  })();

  return {
    staged,
    merged,
    reports,
    stagedRecords: () => [...staged.keys()].reduce((a, k) => a + recordsIn(k), 0),
    errors: () => (errors ? `${errors} polls failed, last: ${lastError}` : ''),
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** kcat reading the topic live: when each record became readable, against its event_time (the anchor). */
function kafkaReader(brokers: string[], topic: string) {
  const child = spawn('kcat', ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-u', '-q', '-f', '%s\\n'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const latencies: number[] = [];
  /** per index, the newest event_time read */
  const newest = new Map<string, number>();
  let stderr = '';
  let rest = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  child.stdout.on('data', (d: Buffer) => {
    const at = Date.now();
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) {
      const e = line.indexOf('"event_time":"');
      const i = line.indexOf('"index":"');
      if (e < 0 || i < 0) continue;
      const t = Date.parse(line.slice(e + 14, line.indexOf('"', e + 14)));
      const index = line.slice(i + 9, line.indexOf('"', i + 9));
      latencies.push(at - t);
      if (t > (newest.get(index) ?? -Infinity)) newest.set(index, t);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    latencies,
    newest,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Per staging object: how many records of each (index, event_time). */
async function readStaged(s3: S3Client, bucket: string, keys: string[]): Promise<Map<string, Map<string, number>>> {
  const out = new Map<string, Map<string, number>>();
  let i = 0;
  const worker = async () => {
    while (i < keys.length) {
      const key = keys[i++] as string;
      const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text = gunzipSync(await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).toString('utf8');
      const groups = new Map<string, number>();
      for (const line of text.split('\n')) {
        if (!line) continue;
        const rec = JSON.parse(line) as { index?: string; event_time?: string };
        const g = `${rec.index ?? ''}\t${rec.event_time ?? ''}`;
        groups.set(g, (groups.get(g) ?? 0) + 1);
      }
      out.set(key, groups);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return out;
}

function quantiles(pairs: Array<[number, number]>): Quantiles {
  const [p50, p99, max] = weightedQuantiles(pairs, [0.5, 0.99, 1]) as [number, number, number];
  return { p50, p99, max, missing: pairs.filter(([v]) => v === Infinity).reduce((a, [, w]) => a + w, 0) };
}

async function oneRun(ctx: BenchContext, stack: TestStack, plan: FreshnessPlan, rate: number, label: string): Promise<FreshnessRun> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-bench-fresh-'));
  const topic = unique('bench-fresh');
  const bucket = unique('kl-bench').toLowerCase();
  const job = unique('bench-etl');
  // the table's spec, reading this run's topic (the lake table keeps its name, so the report runs as is)
  const spec = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'glue/tables', `${TABLE}.json`), 'utf8')) as { source: { topic: string; prefix: string }; dlq: { prefix: string } };
  spec.source = { topic, prefix: `staging/${topic}/` };
  spec.dlq = { prefix: `staging/_dlq/${topic}/` };
  mkdirSync(path.join(work, 'tables'));
  writeFileSync(path.join(work, 'tables', `${TABLE}.json`), JSON.stringify(spec, null, 2));
  // one report: the freshness report (latest event_time per index)
  mkdirSync(path.join(work, 'reports'));
  writeFileSync(path.join(work, 'reports', `${REPORT}.sql`), readFileSync(path.join(PROJECT_ROOT, 'sql/reports', `${REPORT}.sql`)));
  const cron = `*/${plan.etlEverySeconds} * * * * *`;
  const cfg = stack.configFile({
    aws: { bucket },
    log: { level: 'info' },
    kafka: { topic, partitions: PARTITIONS },
    producer: { source: 'simulate', symbols: SYMBOLS, rate, statsIntervalMs: 5000 },
    consumer: { groupId: unique('bench-fresh-g') },
    etl: { cron, jobName: job, specDir: path.join(work, 'tables'), workDir: work },
    crawl: { database: unique('bench_fresh').replace(/-/g, '_'), crawlerName: unique('bench-crawler') },
    reports: { cron, dir: path.join(work, 'reports'), cacheDir: path.join(work, 'sql-cache') },
    monitoring: { alarmPrefix: `${unique('bench')}-` },
  });
  const boot = spawnSync(process.execPath, [CLI, 'bootstrap', '--config', cfg], { encoding: 'utf8', timeout: 120_000 });
  if (boot.status !== 0) throw new Error(`kafkalake bootstrap failed (exit ${boot.status}): ${(boot.stderr || boot.stdout).trim().split('\n').slice(-2).join(' ')}`);
  await createTopic(stack.brokers, topic, PARTITIONS);
  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  const daemons: Daemon[] = [];
  const rss = rssSampler(250);
  const started = Date.now();
  const watch = watchBucket(aws.s3, bucket, topic, job, started);
  const kafka = kafkaReader(stack.brokers, topic);
  let ok = false;
  try {
    const consumer = startDaemon('consumer', ['--config', cfg], path.join(work, 'consumer.log'));
    daemons.push(consumer);
    rss.watch('consumer', consumer.child.pid);
    await consumer.waitFor('joined the group', (l) => l.message === 'joined the group', 90_000);
    const scheduler = startDaemon('scheduler', ['--config', cfg], path.join(work, 'scheduler.log'));
    daemons.push(scheduler);
    rss.watch('scheduler', scheduler.child.pid);
    await scheduler.waitFor('scheduler started', (l) => l.message === 'scheduler started', 90_000);
    const producer = startDaemon('producer', ['--config', cfg], path.join(work, 'producer.log'), { nice: plan.producerNice });
    daemons.push(producer);
    rss.watch('producer', producer.child.pid);
    await producer.waitFor('producing', (l) => l.message === 'producing', 60_000);
    ctx.say(`  ${label}: sending for ${plan.seconds} s`);
    let sending = true;
    const early = producer.exited.then((c) => {
      if (sending) throw new Error(`the producer exited (${c}) while sending; log ${work}/producer.log`);
    });
    early.catch(() => undefined);
    await Promise.race([sleep(plan.seconds * 1000), early]);
    sending = false;
    const code = await producer.stop();
    const stopped = producer.lines.find((l) => l.message === 'producer stopped') as (LogStats & { message: string }) | undefined;
    if (code !== 0 || !stopped) throw new Error(`the producer did not stop cleanly (exit ${code}); log ${work}/producer.log`);
    const sent = stopped.sent;
    if (stopped.failed) throw new Error(`the producer counted ${stopped.failed} failed records; log ${work}/producer.log`);
    ctx.say(`  ${label}: sent ${fmt(sent)} records at ${fmt(stopped.rate)} records/s; waiting for them to reach the report`);
    // until every record is readable, staged, merged and in a report (or the deadline)
    const deadline = Date.now() + plan.drainSeconds * 1000;
    const through = () => {
      const last = watch.reports[watch.reports.length - 1];
      return (
        kafka.latencies.length >= sent &&
        watch.stagedRecords() >= sent &&
        [...watch.staged.keys()].every((k) => watch.merged.has(k)) &&
        !!last &&
        [...kafka.newest].every(([index, t]) => (last.latest.get(index) ?? -Infinity) >= t)
      );
    };
    while (!through() && Date.now() < deadline) await sleep(500);
    if (!through()) ctx.say(`  ${label}: not everything reached the report within ${plan.drainSeconds} s; the rest counts as missing`);
    await kafka.stop();
    await scheduler.stop(60_000);
    await consumer.stop();
    await watch.stop();
    rss.stop();
    if (watch.errors()) ctx.say(`  ${label}: ${watch.errors()}`);
    if (kafka.latencies.length < sent) ctx.say(`  ${label}: kcat read ${kafka.latencies.length} of ${sent} records: ${kafka.stderr().trim().slice(-300)}`);

    const groups = await readStaged(aws.s3, bucket, [...watch.staged.keys()]);
    const pairs: Record<Exclude<Stage, 'kafka'>, Array<[number, number]>> = { staged: [], lake: [], report: [] };
    const byIndex = new Map<string, Array<{ at: number; latest: number }>>();
    for (const r of watch.reports) for (const [index, latest] of r.latest) byIndex.set(index, [...(byIndex.get(index) ?? []), { at: r.at, latest }]);
    let records = 0;
    for (const [key, g] of groups) {
      const stagedAt = watch.staged.get(key) as number;
      const mergedAt = watch.merged.get(key) ?? Infinity;
      for (const [k, n] of g) {
        const [index = '', ts = ''] = k.split('\t');
        const e = Date.parse(ts);
        if (!Number.isFinite(e)) throw new Error(`a staged record without a readable event_time (${JSON.stringify(ts)}) in ${key}`);
        records += n;
        pairs.staged.push([stagedAt - e, n]);
        pairs.lake.push([mergedAt - e, n]);
        const seen = byIndex.get(index)?.find((s) => s.latest >= e);
        pairs.report.push([seen ? seen.at - e : Infinity, n]);
      }
    }
    if (records !== sent) ctx.say(`  ${label}: staging holds ${fmt(records)} records, the producer acknowledged ${fmt(sent)}`);
    const q = spawnSync(process.execPath, [CLI, 'query', `SELECT count(*) AS n FROM ${TABLE}`, '--format', 'csv', '--config', cfg], { encoding: 'utf8', timeout: 180_000 });
    const lakeRows = Number(q.stdout.trim().split('\n').pop()?.replace(/"/g, ''));
    if (q.status !== 0) ctx.say(`  ${label}: counting the lake failed: ${q.stderr.trim().split('\n').pop() ?? ''}`);
    const etlMs = scheduler.lines.filter((l) => l.job === 'etl' && l.message === 'job succeeded').map((l) => Number(l.durationMs));
    const reports = scheduler.lines.filter((l) => l.job === `report-${REPORT}` && l.message === 'job succeeded').length;
    const run: FreshnessRun = {
      rate,
      sent,
      reached: stopped.rate,
      stages: {
        kafka: quantiles(kafka.latencies.map((l) => [l, 1])),
        staged: quantiles(pairs.staged),
        lake: quantiles(pairs.lake),
        report: quantiles(pairs.report),
      },
      rss: { producer: rss.peak('producer'), consumer: rss.peak('consumer'), scheduler: rss.peak('scheduler') },
      etlMs,
      reports,
      lakeRows,
    };
    const s = run.stages;
    ctx.say(
      `  ${label}: p99 kafka ${fmt(s.kafka.p99)} ms, staged ${fmt(s.staged.p99)} ms, lake ${fmt(s.lake.p99)} ms, report ${fmt(s.report.p99)} ms; lake rows ${fmt(lakeRows)}; ETL runs ${etlMs.length}; peak RSS MB producer ${fmt(run.rss.producer / 2 ** 20)}, consumer ${fmt(run.rss.consumer / 2 ** 20)}, scheduler ${fmt(run.rss.scheduler / 2 ** 20)}`,
    );
    // a run where some record never reached a stage keeps the daemons' logs, to find out why
    const incomplete = STAGES.filter((st) => run.stages[st].missing > 0);
    if (incomplete.length) ctx.say(`  ${label}: records missing at ${incomplete.join(', ')}; the daemons' logs are kept in ${work}`);
    ok = incomplete.length === 0 && lakeRows === sent;
    return run;
  } finally {
    rss.stop();
    await kafka.stop();
    for (const d of daemons.reverse()) await d.stop(10_000);
    await watch.stop();
    aws.destroy();
    if (ok && !process.env.KAFKALAKE_BENCH_KEEP) rmSync(work, { recursive: true, force: true });
    else ctx.say(`  ${label}: the daemons' logs are in ${work}`);
  }
}

interface LogStats {
  sent: number;
  failed: number;
  rate: number;
  elapsedMs: number;
}

/** the section (kept by hand, no module writes it) that measured the producer without its lower priority */
export const YIELD_ANCHOR = "End-to-end freshness: the producer at the pipeline's priority";

const rateName = (r: number) => (r > 0 ? `${fmt(r)}/s` : 'max (unlimited)');

export function freshnessMarkdown(plan: FreshnessPlan, runs: FreshnessRun[], machineLine: string, quick: boolean): string {
  const ms = (n: number, d: number) => (Number.isFinite(n) ? fmt(n, d) : 'never');
  // issue 18's targets: send → lake p99 ≤ 10 s at 1,000 and 10,000 records/s, ≤ 15 s unlimited
  const lakeTargetOf = (rate: number) => (rate > 0 ? 10_000 : 15_000);
  const rows: string[] = [];
  const rssRows: string[] = [];
  const verdicts: string[] = [];
  /** why a lake target was missed, when the figures say */
  const reasons: string[] = [];
  for (const rate of plan.rates) {
    const rs = runs.filter((r) => r.rate === rate);
    if (!rs.length) continue;
    const lakeTarget = lakeTargetOf(rate);
    const anchorP99 = rs.map((r) => r.stages.kafka.p99);
    const rateCell = `${rateName(rate)}: reached ${medRange(rs.map((r) => r.reached))}; ${medRange(rs.map((r) => r.sent))} records`;
    const names: Record<Stage, string> = { kafka: 'readable in Kafka (kcat, anchor)', staged: 'staged (S3 object listed)', lake: 'in the lake (Parquet; bookmark)', report: 'in the freshness report' };
    for (const st of STAGES) {
      const get = (f: keyof Quantiles) => rs.map((r) => r.stages[st][f]);
      const target = st === 'staged' ? (rate === 10_000 ? 2000 : undefined) : st === 'lake' ? lakeTarget : undefined;
      const p99 = median(get('p99'));
      const missing = get('missing').reduce((a, b) => a + b, 0);
      rows.push(
        `| ${st === 'kafka' ? rateCell : ''} | ${names[st]} | ${medRange(get('p50'), 0, ms)} | ${medRange(get('p99'), 0, ms)} | ${medRange(get('max'), 0, ms)}${missing ? ` (${fmt(missing)} never)` : ''} | ${target ? `≤ ${fmt(target)}: ${p99 <= target ? 'met' : '**missed**'}` : ''} | ${st === 'kafka' ? '1 (anchor)' : fmt(p99 / median(anchorP99), 1)} |`,
      );
      if (target) verdicts.push(`send → ${st} p99 at ${rateName(rate)}: ${ms(p99, 0)} ms against ≤ ${fmt(target)} ms (${p99 <= target ? 'met' : 'missed'})`);
      const longest = Math.max(...rs.flatMap((r) => r.etlMs));
      if (st === 'lake' && p99 > lakeTarget && longest > plan.etlEverySeconds * 1000) {
        reasons.push(
          `at ${rateName(rate)} the longest ETL run took ${fmt(longest / 1000, 1)} s, more than the ${plan.etlEverySeconds} s between runs: runs follow each other back to back (the scheduler runs one at a time, and a fire during a run starts the next as soon as it ends) and each merges what arrived during the last, so the lake trails by more than one interval; the ETL shares the 2 cores with the producer ${plan.producerNice ? `(at nice ${plan.producerNice})` : 'at full speed'}, the consumer, the broker and the twin${rate === 0 && !plan.producerNice ? `, and send → staged alone took ${ms(median(rs.map((r) => r.stages.staged.p99)), 0)} ms at p99 there: unlimited, the producer offers more than the 2 cores stage and merge, so the lake's lag grows for as long as it sends` : ''}`,
        );
      } else if (st === 'lake' && p99 > lakeTarget && p99 <= plan.etlEverySeconds * 1000 + longest + median(rs.map((r) => r.stages.staged.p99))) {
        // the worst case: staged just after a run listed, so a whole interval, then one run. When the longest
        // run plus the interval plus staging covers the p99, that is why.
        const budget = lakeTarget - plan.etlEverySeconds * 1000;
        const slow = rs.flatMap((r) => r.etlMs).filter((x) => x > budget).length;
        reasons.push(
          `at ${rateName(rate)} a record staged just after a run has listed staging waits for the next run (up to ${plan.etlEverySeconds} s) and then for that run to write the lake and its bookmark; the target leaves ${fmt(budget / 1000, 1)} s for staging and that run, and ${fmt(slow)} of ${fmt(rs.flatMap((r) => r.etlMs).length)} runs took longer (the longest ${fmt(longest / 1000, 1)} s), the ETL sharing the 2 cores with the producer, the consumer, the broker and the twin`,
        );
      }
    }
    const mb = (f: (r: FreshnessRun) => number) => medRange(rs.map((r) => f(r) / 2 ** 20));
    const lakeOk = rs.every((r) => r.lakeRows === r.sent);
    rssRows.push(
      `| ${rateName(rate)} | ${mb((r) => r.rss.producer)} | ${mb((r) => r.rss.consumer)} | ${mb((r) => r.rss.scheduler)} | ${medRange(rs.map((r) => r.etlMs.length))} runs, ${medRange(rs.flatMap((r) => r.etlMs).map((x) => x / 1000), 1)} s each | ${medRange(rs.map((r) => r.reports))} | ${lakeOk ? 'yes, every run' : `**no**: ${rs.map((r) => `${fmt(r.lakeRows)} of ${fmt(r.sent)}`).join(', ')}`} |`,
    );
  }
  return [
    `Command: \`npm run bench\` or \`node dist/test/bench/main.js --only freshness${quick ? ' --quick' : ''}\`${quick ? ' (**quick mode**: one short run at 1,000/s)' : ''}. Measured by \`test/bench/freshness.ts\` on ${machineLine}; the local stack (ZooKeeper, one broker, the AWS twin) on the same cores.`,
    '',
    `The whole pipeline as \`kafkalake up\` and the systemd units run it, each daemon its own process with its unit's heap limit: \`kafkalake producer\` (\`--source simulate\`: daily bars of ${fmt(SYMBOLS)} symbols, every symbol once per trading day, at the rate shown or unlimited; ${plan.producerNice ? `at nice ${plan.producerNice}, as its unit runs it (kafkalake_nice): on these shared cores it gets what the consumer, the ETL, the broker and the twin leave, so unlimited it sends at the rate the pipeline sustains` : 'at the same priority as the pipeline (KAFKALAKE_BENCH_FRESHNESS_PRODUCER_NICE=0, not as its unit runs it): unlimited, it competes with the pipeline for the shared cores'}), \`kafkalake consumer\` (default flush: 1 s / 50,000 records / 16 MB), \`kafkalake scheduler\` with the ETL and the freshness report on cron every ${plan.etlEverySeconds} s (the crawl after each ETL run that created a partition; the report waits for a running ETL run, not for the crawl). A fresh topic of ${PARTITIONS} partitions, bucket and group per run; the producer sends for ${plan.seconds} s, then the run waits (up to ${plan.drainSeconds} s) until the last record is in a report. ${plan.runs} run${plan.runs === 1 ? '' : 's'} per rate; each figure is the median over runs (min–max) of that run's percentile over every record.`,
    '',
    'Latencies are measured from each record\'s `event_time`, which the producer stamps just before handing a batch to Kafka (one stamp per batch of rate/20 records, 2,000 when unlimited), to the first time the bench saw the record: readable in Kafka (kcat reading the topic live beside the consumer: the anchor, Kafka alone); staged (the first S3 LIST, every 250 ms per partition, showing its staging object); in the lake (the first read of the ETL bookmark, every 500 ms, listing its staging object; the bookmark is written after the lake\'s Parquet files); in the report (the first `reports/freshness/DATE.csv`, listed every 500 ms, whose `latest_event_time` for the record\'s index is at or after its `event_time`; an index is a message key, so one partition, in order). Each is an upper bound by its polling interval.',
    '',
    '| rate (target: reached, records/s; records sent) | send → | p50, ms | p99, ms | max, ms | p99 target, ms | p99 ÷ anchor p99 |',
    '|---|---|---:|---:|---:|---|---:|',
    ...rows,
    '',
    `Targets: send → staged p99 ≤ 2,000 ms at 10,000 records/s; send → lake p99 ≤ 10,000 ms at 1,000 and 10,000 records/s, ≤ 15,000 ms at the maximum rate (issue 18; unlimited${plan.producerNice ? `, the producer at nice ${plan.producerNice}` : ''}; the report's p99 beside them).${verdicts.length ? ` ${verdicts.join('; ')}.` : ''}${reasons.length ? ` Why missed: ${reasons.join('; ')}.` : ''}`,
    ...(plan.producerNice ? ['', `The same rates with the producer at the pipeline's priority (nice 0), for comparison: the section "${YIELD_ANCHOR}" below.`] : []),
    '',
    'Peak RSS per daemon (the sum over its process tree, sampled every 250 ms: the consumer\'s worker thread and the scheduler\'s job workers, with the local engines\' DuckDB, included), MB, and what the scheduler did:',
    '',
    '| rate | producer | consumer | scheduler | ETL runs, all (duration, runs with nothing new included) | freshness reports written | lake table rows (`kafkalake query`, through the catalog) = records sent |',
    '|---|---:|---:|---:|---|---:|---|',
    ...rssRows,
  ].join('\n');
}

export const freshnessBench: Benchmark = {
  name: 'freshness',
  section: 'End-to-end freshness',
  async run(ctx) {
    const plan = freshnessPlan(ctx.quick);
    const stack = await ctx.stack();
    const machineLine = machine();
    const runs: FreshnessRun[] = [];
    const failed: string[] = [];
    // the rates alternate, so a spell of load on the machine spreads over all of them
    for (let i = 1; i <= plan.runs; i++) {
      for (const rate of plan.rates) {
        const label = `freshness ${rateName(rate)} run ${i}/${plan.runs}`;
        ctx.say(`  ${label}`);
        try {
          runs.push(await oneRun(ctx, stack, plan, rate, label));
        } catch (err) {
          failed.push(`${label}: ${oneLine(err)}`);
          ctx.say(`  ${label} failed: ${oneLine(err)}`);
        }
      }
    }
    if (!runs.length) throw new Error(`every freshness run failed; first: ${failed[0] ?? '?'}`);
    const body = freshnessMarkdown(plan, runs, machineLine, ctx.quick);
    return failed.length ? `${body}\n\n**${failed.length} run${failed.length === 1 ? '' : 's'} failed** and ${failed.length === 1 ? 'is' : 'are'} not in the figures: ${failed.join('; ')}` : body;
  },
};
