// The scheduler's limit on a job run outlasts the job's own: the runner times out first and stops the work
// where it runs (Glue's BatchStopJobRun, StopCrawler, Athena's StopQueryExecution) and releases the ETL
// lock; were the scheduler first, it would abort the runner mid-poll and leave the Glue run going.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import type { RunJob } from '../jobs/table.js';
import { loadConfig } from '../lib/config/index.js';
import { createLogger } from '../lib/log.js';
import { buildJobs, etlChanged, RUNNER_STOP_MARGIN_MS, summaryOf } from './jobs.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-jobs-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger({ daemon: 'test', level: 'error', stream: process.stderr });
const runJob = (name: string): RunJob => ({ name, summary: name, run: async () => ({ report: null, lines: [] }) });

for (const mode of ['local', 'aws'] as const) {
  test(`${mode} mode: each scheduled job's limit is its runner's timeout plus the stop margin`, (t) => {
    const file = path.join(dir, `${mode}.json`);
    writeFileSync(file, JSON.stringify({ mode, aws: { bucket: 'b' }, crawl: { timeoutMs: 2_400_000 } }));
    const { config } = loadConfig({ file, env: {} });
    const jobs = buildJobs({ config, log, runJobs: ['etl', 'crawl', 'report'].map(runJob), reports: [{ name: 'daily', description: '', schedule: '0 6 * * *', file: 'daily.sql' }] });
    const limit = (name: string) => jobs.find((j) => j.name === name)?.timeoutMs;
    t.is(limit('etl'), config.etl.timeoutMs + RUNNER_STOP_MARGIN_MS);
    t.is(limit('crawl'), config.crawl.timeoutMs + RUNNER_STOP_MARGIN_MS);
    t.is(limit('report-daily'), config.reports.timeoutMs + RUNNER_STOP_MARGIN_MS);
    t.true(RUNNER_STOP_MARGIN_MS >= 30_000, 'time for a stop call and the lock release');
  });
}

test('a report waits for the ETL, not the crawl; the crawl follows only an ETL run that created partitions', (t) => {
  const file = path.join(dir, 'deps.json');
  writeFileSync(file, JSON.stringify({ mode: 'local', aws: { bucket: 'b' } }));
  const { config } = loadConfig({ file, env: {} });
  const jobs = buildJobs({ config, log, runJobs: ['etl', 'crawl', 'report'].map(runJob), reports: [{ name: 'daily', description: '', schedule: '0 6 * * *', file: 'daily.sql' }] });
  const dep = (name: string) => jobs.find((j) => j.name === name)?.dependsOn;
  t.is(dep('report-daily'), 'etl');
  t.is(dep('crawl'), 'etl');
  const noEtl = buildJobs({ config, log, runJobs: ['crawl', 'report'].map(runJob), reports: [{ name: 'daily', description: '', schedule: '0 6 * * *', file: 'daily.sql' }] });
  t.is(noEtl.find((j) => j.name === 'report-daily')?.dependsOn, 'crawl');

  const table = (created: string[]) => ({ table: 't', appended: ['year=2020'], rewritten: [], created });
  t.false(etlChanged({ mode: 'local', tables: [table([])] }), 'appends to existing partitions: no crawl');
  t.true(etlChanged({ mode: 'local', tables: [table([]), table(['year=2021'])] }));
  t.false(etlChanged({ mode: 'local', tables: [] }));
  t.true(etlChanged({ mode: 'aws', state: 'SUCCEEDED' }));
  t.false(etlChanged({ mode: 'aws', state: 'FAILED' }));
});

test('a summary over 500 characters is cut in its first lines: the last, the run\'s total (time, S3 calls), stays whole', (t) => {
  const total = 'etl: done in 1.9 s (S3: 9 LIST 0.41 s, 14 GET 0.12 s, 8 PUT 0.20 s)';
  t.is(summaryOf(['etl t: 3 objects', total]), `etl t: 3 objects; ${total}`);
  const long = summaryOf([`etl t: ${'x'.repeat(600)}`, total]);
  t.is(long.length, 500);
  t.true(long.endsWith(`…; ${total}`));
  t.true(long.startsWith('etl t: xxx'));
});

test('an ETL run publishes send → lake per table it wrote (LakeLatency, Table): commit time minus the oldest send time', async (t) => {
  const file = path.join(dir, 'latency.json');
  writeFileSync(file, JSON.stringify({ mode: 'local', aws: { bucket: 'b' } }));
  const { config } = loadConfig({ file, env: {} });
  const table = (name: string, oldestSentAtMs: number | null, committedAtMs: number | null) => ({ table: name, appended: [], rewritten: [], created: [], oldestSentAtMs, committedAtMs });
  const reports = [
    { mode: 'local', tables: [table('a', 1_000, 8_500), table('idle', null, null)] },
    // a Glue run reports its tables' figures from its last-run file; one without them publishes nothing
    { mode: 'aws', state: 'SUCCEEDED', tables: [table('a', 10_000, 12_000)] },
    { mode: 'aws', state: 'SUCCEEDED' },
  ];
  const timings: Array<[string, number, unknown]> = [];
  let n = 0;
  const jobs = buildJobs({
    config,
    log,
    runJobs: [{ name: 'etl', summary: 'etl', run: async () => ({ report: reports[n++], lines: ['etl: done'] }) }],
    reports: [],
    metrics: { timing: (name, ms, dims) => void timings.push([name, ms, dims]) },
  });
  const etl = jobs.find((j) => j.name === 'etl')!;
  for (let i = 0; i < reports.length; i++) await etl.run(new AbortController().signal);
  t.deepEqual(timings, [
    ['LakeLatency', 7_500, { extra: { Table: 'a' } }],
    ['LakeLatency', 2_000, { extra: { Table: 'a' } }],
  ]);
});
