// The soak run (opt-in, not part of `npm test`): the whole local pipeline (test/helpers/pipeline.ts) at a
// steady rate for a long time, sampling every ~10 s each daemon's resident memory and open file
// descriptors (/proc/PID/status, /proc/PID/fd) and the consumer group's lag (Kafka admin API). At the end
// it prints the samples (one row a minute, or every sample for a short run), then each daemon's least
// squares slope of RSS (MB/hour) and of open files (fds/hour) over the run after its warm-up, and exits
//   0  memory and open files flat, lag bounded
//   1  a slope clearly grows (the fitted growth over the measured window is more than 32 MB and 20 % of
//      the daemon's mean RSS, or more than 20 fds, with the slope 3 standard errors from 0), the lag grows
//      (fitted growth over the window above 30 s of records), or the lag at the end stays above 60 s of
//      records; or the ETL's own run time, last third ÷ first third, is above 125 %; or a partition
//      holds more files than compaction bounds; or the freshness report's time per million records,
//      last third ÷ first third, is above 125 %; or a daemon died. A few minutes prove the run works; an hour judges the slopes.
//   2  the run itself could not be set up
//
//   npm run build && npm run soak -- [--minutes 60] [--rate 5000] [--partitions 6] [--report-minutes 5] [--keep] [--write]
//
// --report-minutes: how often the freshness report runs (its own schedule is every 15 min).
// --write records the result as the Soak section of BENCHMARKS.md (a full `npm run bench` keeps it).
//
// The local stack's own processes (Kafka, ZooKeeper, the AWS twin) are sampled too, for information
// only: the twin keeps every object in memory, so its RSS grows with the bucket by design.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createPipeline, DAEMON_NAMES, type Pipeline, processUsage, sleep } from '../helpers/pipeline.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { BENCHMARKS_FILE, machine, writeSection } from '../bench/harness.js';
import { lakeManifests } from '../helpers/ledger.js';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { loadSpecs } from '../../daemons/lib/etl/spec.js';
import { nextFire } from '../../daemons/scheduler/times.js';
import { fitSlope, judge, listSeconds, type Sample, thirds, type Verdict } from './analysis.js';

const usage = 'node dist/test/soak/main.js [--minutes 60] [--rate 5000] [--partitions 6] [--interval 10] [--report-minutes 5] [--keep] [--write]';

function options() {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '60' },
      rate: { type: 'string', default: '5000' },
      partitions: { type: 'string', default: '6' },
      interval: { type: 'string', default: '10' },
      'report-minutes': { type: 'string', default: '5' },
      keep: { type: 'boolean', default: false },
      write: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const num = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} ${v}: expected a number ≥ ${min} (usage: ${usage})`);
    return n;
  };
  return {
    help: values.help,
    minutes: num('minutes', values.minutes, 1),
    rate: num('rate', values.rate, 1),
    partitions: num('partitions', values.partitions, 1),
    reportMinutes: num('report-minutes', values['report-minutes'], 1),
    intervalS: num('interval', values.interval, 1),
    keep: values.keep,
    write: values.write,
  };
}

const mb = (b: number) => b / 1048576;
const f1 = (n: number) => n.toFixed(1);

function table(samples: Sample[], names: string[], every: number): string {
  const head = ['t min'.padStart(6), ...names.map((n) => `${n} MB/fd`.padStart(18)), 'lag'.padStart(9)].join(' ');
  const rows = samples
    .filter((s, i) => i % every === 0 || i === samples.length - 1)
    .map((s) => [f1(s.t / 60_000).padStart(6), ...names.map((n) => (s.usage[n] ? `${f1(mb(s.usage[n].rss))} / ${s.usage[n].fds}` : 'gone').padStart(18)), String(s.lag ?? '?').padStart(9)].join(' '));
  return [head, ...rows].join('\n');
}

async function main(): Promise<number> {
  let o;
  try {
    o = options();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  if (o.help) {
    process.stdout.write(`usage: ${usage}\n`);
    return 0;
  }
  const out = (l: string) => process.stdout.write(`${l}\n`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-soak-'));
  let stack: TestStack | undefined;
  let pipeline: Pipeline | undefined;
  let stopping = false;
  const onSignal = () => {
    stopping = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    out(`soak: ${o.minutes} min at ${o.rate} records/s, ${o.partitions} partitions, a sample every ${o.intervalS} s; logs in ${dir}`);
    const machineAtStart = machine();
    stack = await startTestStack();
    // the freshness report, the one saved report on an intraday schedule (every 15 min), every
    // --report-minutes instead, so its trend over the hour has more than three points; off the
    // compaction's minutes (0 */5)
    const reportsDir = path.join(dir, 'reports-sql');
    mkdirSync(reportsDir);
    copyFileSync(path.join(PROJECT_ROOT, 'sql/reports/freshness.sql'), path.join(reportsDir, 'freshness.sql'));
    const reportCron = `0 2-59/${o.reportMinutes} * * * *`;
    const p = await createPipeline({
      stack,
      bucket: unique('kl-soak').toLowerCase(),
      dir,
      rate: o.rate,
      partitions: o.partitions,
      perDaemon: { scheduler: { reports: { dir: reportsDir, cron: reportCron } } },
    });
    pipeline = p;
    const etl: number[] = [];
    const etlList: number[] = []; // each ETL run's time waiting on the twin's LISTs, ms
    let lastEnds = 0; // the records in the topic at the last sample
    const reports = new Map<string, Array<{ ms: number; records: number }>>(); // report → each run's duration, ms, and the records in the topic then
    let etlSinceCompaction = 0;
    let etlBetweenCompactions = 0; // the most ETL runs between two compactions
    const workerPeaks = new Map<string, number[]>(); // job kind → each worker's peak RSS, MB
    p.daemons.scheduler.onLine((l) => {
      if (l.message === 'job succeeded' && l.job === 'etl') {
        etl.push(Number(l.durationMs));
        etlList.push((listSeconds(l.summary) ?? 0) * 1000);
        etlSinceCompaction++;
      }
      if (l.message === 'job succeeded' && l.job === 'compact') {
        etlBetweenCompactions = Math.max(etlBetweenCompactions, etlSinceCompaction);
        etlSinceCompaction = 0;
      }
      if (l.message === 'job succeeded' && /^report-/.test(String(l.job))) reports.set(String(l.job), [...(reports.get(String(l.job)) ?? []), { ms: Number(l.durationMs), records: lastEnds }]);
      if (l.message === 'job worker exited' && typeof l.maxRssMb === 'number') {
        const kind = String(l.job).replace(/^report-.*/, 'reports');
        workerPeaks.set(kind, [...(workerPeaks.get(kind) ?? []), l.maxRssMb]);
      }
    });
    await p.start();
    const services = stack.handle.processes.map((x) => ({ name: x.name, pid: x.pid }));
    const names = [...DAEMON_NAMES, ...services.map((s) => s.name)];
    const samples: Sample[] = [];
    const aws = createAwsClients(p.config);
    // files per lake partition (its manifest's current generation), read about once a minute
    const lakeEvery = Math.max(1, Math.round(60 / o.intervalS));
    let mostFiles = { files: 0, location: '', atMin: 0, partitions: 0 };
    const t0 = Date.now();
    const end = t0 + o.minutes * 60_000;
    let lastAt = t0;
    while (Date.now() < end && !stopping) {
      await sleep(Math.min(o.intervalS * 1000, Math.max(0, end - Date.now())));
      const usage: Sample['usage'] = {};
      for (const n of DAEMON_NAMES) {
        const pid = p.daemons[n].pid();
        const u = pid === undefined ? undefined : processUsage(pid);
        if (u) usage[n] = u;
      }
      for (const s of services) {
        const u = processUsage(s.pid);
        if (u) usage[s.name] = u;
      }
      const lag = await p.lag().catch(() => undefined);
      const total = lag?.reduce((a, x) => a + x.lag, 0);
      const ends = lag?.reduce((a, x) => a + x.end, 0) ?? lastEnds;
      const now = Date.now();
      const rate = Math.round(((ends - lastEnds) * 1000) / (now - lastAt));
      lastEnds = ends;
      lastAt = now;
      samples.push({ t: now - t0, usage, lag: total });
      if (samples.length % lakeEvery === 0) {
        const lake = await lakeManifests(aws.s3, p.bucket).catch(() => []);
        for (const m of lake) if (m.files > mostFiles.files) mostFiles = { files: m.files, location: m.location, atMin: (now - t0) / 60_000, partitions: lake.length };
      }
      out(
        `${f1((now - t0) / 60_000).padStart(5)} min  produced ${rate}/s  lag ${total ?? '?'}  ${DAEMON_NAMES.map((n) => `${n} ${usage[n] ? `${f1(mb(usage[n].rss))} MB ${usage[n].fds} fds` : 'gone'}`).join('  ')}  etl runs ${etl.length}`,
      );
    }
    const exits = DAEMON_NAMES.flatMap((n) => p.daemons[n].exits().map((e) => `${n} exited ${e.code ?? e.signal} at ${new Date(e.at).toISOString()}`));
    for (const n of DAEMON_NAMES) await p.daemons[n].stop(30_000);

    const minutes = (samples.at(-1)?.t ?? 0) / 60_000;
    out('');
    out(table(samples, names, minutes > 10 ? Math.max(1, Math.round(60 / o.intervalS)) : 1));
    out('');
    const verdicts: Verdict[] = [];
    for (const n of names) verdicts.push(...judge(n, samples, { daemon: (DAEMON_NAMES as readonly string[]).includes(n) }));
    const lagFit = fitSlope(samples, (s) => s.lag);
    verdicts.push(...judge('consumer lag', samples, { lag: o.rate }));
    out(`${'process'.padEnd(14)} ${'RSS MB/h'.padStart(9)} ${'mean MB'.padStart(8)} ${'fds/h'.padStart(7)} ${'mean fds'.padStart(8)}  ${'RSS fit'.padEnd(7)} verdict`);
    for (const v of verdicts) out(v.line);
    const etlSorted = [...etl].sort((a, b) => a - b);
    const etlLine = `${etl.length} runs succeeded; duration median ${f1((etlSorted[Math.floor(etlSorted.length / 2)] ?? 0) / 1000)} s, max ${f1((etlSorted.at(-1) ?? 0) / 1000)} s; first third mean ${f1(mean(etl.slice(0, Math.ceil(etl.length / 3))) / 1000)} s, last third ${f1(mean(etl.slice(-Math.ceil(etl.length / 3))) / 1000)} s`;
    // issue 18: the ETL's cost follows the new data, not the lake, and compaction bounds the files. The
    // twin's LIST scans every key of the bucket (moto's list_objects), which grows by the hour; S3's does
    // not: the run's own work is its time less its LISTs, and that is what must stay flat
    const etlRatio = thirds(etl).ratio;
    const lists = thirds(etlList);
    const work = thirds(etl.map((d, i) => d - (etlList[i] ?? 0)));
    const workLine = `the twin's LISTs took ${f1(lists.first / 1000)} s a run in the first third, ${f1(lists.last / 1000)} s in the last; the rest of a run (its own work) ${f1(work.first / 1000)} s, then ${f1(work.last / 1000)} s: ${f1(work.ratio * 100)} % (target ≤ 125 %)`;
    const every = (expr: string) => {
      const a = nextFire(expr, new Date(Date.UTC(2026, 0, 1)));
      return nextFire(expr, a).getTime() - a.getTime();
    };
    const spec = loadSpecs(path.join(PROJECT_ROOT, 'glue/tables'))[0]!;
    const filesPerRun = Math.ceil((o.rate * every(p.config.etl.cron)) / 1000 / spec.target.maxRowsPerFile);
    // the stretch since the last compaction (or the start) counts too
    etlBetweenCompactions = Math.max(etlBetweenCompactions, etlSinceCompaction);
    const fileBound = p.config.compact.maxFiles + etlBetweenCompactions * filesPerRun;
    const filesLine = `at most ${mostFiles.files} files in one partition's current generation (${mostFiles.location || 'none'}, at ${f1(mostFiles.atMin)} min, of ${mostFiles.partitions} partitions; read once a minute), bound ${fileBound} = compact.maxFiles ${p.config.compact.maxFiles} + ${etlBetweenCompactions} ETL runs between two compactions (the most seen, the start and the end included; ETL ${p.config.etl.cron}, compaction ${p.config.compact.cron}) × ${filesPerRun} file a run (ceil(${o.rate} records/s × ${every(p.config.etl.cron) / 1000} s / maxRowsPerFile ${spec.target.maxRowsPerFile}))`;
    // a report over the whole table scans what the hour added, on Athena too (bytes scanned): its time
    // grows with the table. Flat is its cost per million records then in the topic (the table's rows,
    // less the lag), last third ÷ first third; the time itself is shown beside it
    const reportRatios = [...reports].map(([job, xs]) => ({
      job,
      runs: xs.length,
      ms: thirds(xs.map((x) => x.ms)),
      records: thirds(xs.map((x) => x.records)),
      perMillion: thirds(xs.map((x) => x.ms / Math.max(1, x.records / 1e6))),
    }));
    const reportLine = reportRatios
      .map(
        (r) =>
          `${r.job} ${r.runs} runs (${reportCron}): first third mean ${f1(r.ms.first / 1000)} s at ${f1(r.records.first / 1e6)} M records, last third ${f1(r.ms.last / 1000)} s at ${f1(r.records.last / 1e6)} M records; per million records ${f1(r.perMillion.first / 1000)} s, then ${f1(r.perMillion.last / 1000)} s: ${f1(r.perMillion.ratio * 100)} % (target ≤ 125 %)`,
      )
      .join('; ');
    const lakeVerdicts: Verdict[] = [
      { name: 'etl', ok: etl.length >= 3 && work.ratio <= 1.25, why: `ETL run time less the twin's LISTs, last third ÷ first third ${f1(work.ratio * 100)} % (target ≤ 125 %)`, line: '' },
      { name: 'lake files', ok: mostFiles.files <= fileBound, why: `${mostFiles.files} files in a partition, above the bound ${fileBound}`, line: '' },
      { name: 'reports', ok: reportRatios.length > 0 && reportRatios.every((r) => r.runs >= 3 && r.perMillion.ratio <= 1.25), why: `report time per million records, last third ÷ first third: ${reportRatios.map((r) => `${r.job} ${f1(r.perMillion.ratio * 100)} % of ${r.runs} runs`).join(', ') || 'no report ran'} (target ≤ 125 %, 3 runs at least)`, line: '' },
    ];
    const lagLine = `slope ${lagFit ? Math.round(lagFit.slope * 3_600_000) : '?'} records/h, max ${Math.max(...samples.map((s) => s.lag ?? 0))} records`;
    const peakLine = [...workerPeaks]
      .map(([kind, xs]) => `${kind} ${xs.length} runs, median ${Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0)} MB, max ${Math.max(...xs)} MB, first third mean ${Math.round(mean(xs.slice(0, Math.ceil(xs.length / 3))))} MB, last third ${Math.round(mean(xs.slice(-Math.ceil(xs.length / 3))))} MB`)
      .join('; ');
    out(`etl: ${etlLine}; last third ÷ first third ${f1(etlRatio * 100)} %; ${workLine}`);
    out(`lake: ${filesLine}`);
    out(`reports: ${reportLine || 'none ran'}`);
    out(`job workers' peak RSS: ${peakLine || 'none ran'}`);
    out(`lag: ${lagLine}`);
    if (exits.length) out(`daemons died during the run: ${exits.join('; ')}`);
    const bad = [...verdicts, ...lakeVerdicts].filter((v) => !v.ok);
    aws.destroy();
    const verdict = bad.length === 0 && exits.length === 0 ? 'soak: flat — memory and open files steady, lag bounded, ETL run time flat, lake files bounded, report time per record flat' : `soak: FAILED — ${[...bad.map((v) => v.why), ...exits].join('; ')}`;
    out(verdict);
    if (o.write) {
      const rev = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).stdout.trim() || 'unknown';
      const argv = process.argv.slice(2).join(' ');
      const body = [
        `\`npm run soak --${argv ? ` ${argv}` : ''}\` (\`node dist/test/soak/main.js\`), ${new Date(t0).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${f1(minutes)} min, commit ${rev}; ${machineAtStart}.`,
        '',
        `The whole local pipeline at a steady ${o.rate} records/s (${o.partitions} partitions): producer, consumer and scheduler started as their systemd units start them (the units' heap limits), the ETL every 12 s, the crawl after each ETL that wrote, the freshness report every ${o.reportMinutes} min (the other saved reports run daily or weekly). Every ${o.intervalS} s each process's RSS and open files (/proc) and the consumer group's lag; slopes are least-squares fits after the warm-up (the first 20 % of the run, at most 2 min). A daemon fails the soak when its fitted growth over the window exceeds 32 MB and 20 % of its mean RSS (or 20 open files) with the slope 3 standard errors from 0 ("RSS fit" is that t). Kafka, ZooKeeper and the AWS twin are listed for information: the twin keeps every object in memory.`,
        '',
        '```text',
        `${'process'.padEnd(14)} ${'RSS MB/h'.padStart(9)} ${'mean MB'.padStart(8)} ${'fds/h'.padStart(7)} ${'mean fds'.padStart(8)}  ${'RSS fit'.padEnd(7)} verdict`,
        ...verdicts.map((v) => v.line),
        '```',
        '',
        `ETL: ${etlLine}; last third ÷ first third ${f1(etlRatio * 100)} %; ${workLine}. Lake: ${filesLine}. The freshness report (every ${o.reportMinutes} min instead of its 15; it reads the whole table, which grows by the hour's records): ${reportLine || 'none ran'}. Lag: ${lagLine}. Each job runs in a worker process of its own (daemons/scheduler/worker.ts); the workers' peak RSS, for information: ${peakLine || 'none ran'}.${exits.length ? ` Daemons died: ${exits.join('; ')}.` : ''}`,
        '',
        `**${verdict}**`,
      ].join('\n');
      writeSection('Soak', body);
      out(`soak: wrote the Soak section of ${BENCHMARKS_FILE}`);
    }
    return bad.length === 0 && exits.length === 0 ? 0 : 1;
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).message}\n`);
    return 2;
  } finally {
    await pipeline?.close().catch(() => undefined);
    await stack?.stop().catch(() => undefined);
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
    else out(`logs kept in ${dir}`);
  }
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

void main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`soak: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
