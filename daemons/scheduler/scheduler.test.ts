// The scheduler core with real node-cron on second-level schedules and jobs made for the test: no
// overlap, timeouts, retry vs no retry, dependency order, missed-run catch-up (the S3 history is tested
// in test/integration/scheduler.test.ts).
import { PassThrough } from 'node:stream';
import test from 'ava';
import { KafkalakeError } from '../lib/errors.js';
import { createLogger } from '../lib/log.js';
import type { Metrics } from '../lib/metrics.js';
import { emptyHistory, type History, memoryHistory } from './history.js';
import type { Job, JobResult } from './job.js';
import { createScheduler } from './scheduler.js';
import { missedFire, nextFire } from './times.js';

const log = createLogger({ daemon: 'scheduler-test', level: 'error', stream: process.stderr });
const retry = { retries: 3, minTimeoutMs: 20, maxTimeoutMs: 50 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recorder(): Metrics & { counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const add = (name: string, v: number, dims?: { extra?: Record<string, string> }) => {
    const k = `${name}${dims?.extra ? ` ${JSON.stringify(dims.extra)}` : ''}`;
    counts.set(k, (counts.get(k) ?? 0) + v);
  };
  return {
    counts,
    count: (name, v = 1, dims) => add(name, v, dims),
    gauge: (name, v, dims) => add(name, v, dims),
    timing: (name, v, dims) => add(name, v, dims),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
    stats: () => ({ sent: 0, dropped: 0, pending: 0, failedSends: 0 }),
  };
}

function job(name: string, over: Partial<Job> & { run: Job['run'] }): Job {
  return { name, kind: name, cron: '', timeoutMs: 10_000, ...over };
}

test('a fire while the job still runs is skipped, logged and counted: never two runs at once', async (t) => {
  let active = 0;
  let maxActive = 0;
  let runs = 0;
  const metrics = recorder();
  const history = memoryHistory();
  const s = createScheduler({
    jobs: [
      job('slow', {
        cron: '* * * * * *',
        run: async () => {
          runs++;
          active++;
          maxActive = Math.max(maxActive, active);
          await sleep(2600);
          active--;
          return { changed: false };
        },
      }),
    ],
    history,
    log,
    metrics,
    retry,
    keepRuns: 10,
  });
  await s.start();
  await sleep(4300);
  await s.close();
  t.is(maxActive, 1);
  t.true(runs >= 1 && runs <= 2, `runs ${runs}`);
  const skipped = history.current().jobs.slow?.skipped ?? 0;
  t.true(skipped >= 2, `skipped ${skipped}`);
  t.is(metrics.counts.get('JobSkipped {"Job":"slow"}'), skipped);
  t.is(history.current().jobs.slow?.runs[0]?.outcome, 'stopped', 'the run cut by close() is recorded as stopped, not failed');
  t.is(metrics.counts.get('JobFailure {"Job":"slow"}'), undefined);
});

test('a runOnce job fired while it runs runs once more right after, not at its next fire: still never two at once', async (t) => {
  let active = 0;
  let maxActive = 0;
  const starts: number[] = [];
  const ends: number[] = [];
  const metrics = recorder();
  const history = memoryHistory();
  const s = createScheduler({
    jobs: [
      job('etl', {
        cron: '* * * * * *',
        misfire: 'runOnce',
        run: async () => {
          starts.push(Date.now());
          active++;
          maxActive = Math.max(maxActive, active);
          await sleep(1600); // two fires land in each run: they make one more run
          active--;
          ends.push(Date.now());
          return { changed: false };
        },
      }),
    ],
    history,
    log,
    metrics,
    retry,
    keepRuns: 10,
  });
  await s.start();
  await sleep(4500);
  await s.close();
  t.is(maxActive, 1);
  t.true(starts.length >= 2, `runs ${starts.length}`);
  // the second run starts as the first ends (a cron fire would be up to a second later)
  t.true(starts[1]! - ends[0]! < 200, `the next run started ${starts[1]! - ends[0]!} ms after the first ended`);
  t.is(history.current().jobs.etl?.skipped ?? 0, 0);
  t.is(metrics.counts.get('JobSkipped {"Job":"etl"}'), undefined);
  t.true((history.current().jobs.etl?.runs ?? []).every((r) => r.reason === 'schedule'));
});

test('a run past its timeout is aborted and recorded as timed out, even when the job ignores the signal', async (t) => {
  let sawAbort = false;
  const history = memoryHistory();
  const s = createScheduler({
    jobs: [
      job('stuck', {
        cron: '0 0 1 1 *',
        timeoutMs: 300,
        run: (signal) => {
          signal.addEventListener('abort', () => (sawAbort = true));
          return new Promise<JobResult>(() => undefined); // never settles
        },
      }),
    ],
    history,
    log,
    retry,
    keepRuns: 10,
  });
  await s.start();
  const t0 = Date.now();
  const rec = await s.trigger('stuck');
  await s.close();
  t.is(rec?.outcome, 'timed-out');
  t.true(sawAbort);
  t.true(Date.now() - t0 < 2000);
  t.regex(rec?.error ?? '', /timed out after 300 ms/);
  t.is(history.current().jobs.stuck?.runs[0]?.outcome, 'timed-out');
});

test('transient errors are retried with backoff; permanent ones (access denied, bad SQL) fail at once', async (t) => {
  let flaky = 0;
  let denied = 0;
  let badSql = 0;
  const metrics = recorder();
  const s = createScheduler({
    jobs: [
      job('flaky', {
        cron: '0 0 1 1 *',
        kind: 'etl',
        run: () => {
          flaky++;
          if (flaky < 3) return Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
          return Promise.resolve({ changed: false, summary: 'ok on the third try' });
        },
      }),
      job('denied', {
        cron: '0 0 1 1 *',
        kind: 'report',
        run: () => {
          denied++;
          return Promise.reject(Object.assign(new Error('User is not authorized to perform glue:StartCrawler'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 403 } }));
        },
      }),
      job('bad-sql', {
        cron: '0 0 1 1 *',
        kind: 'report',
        run: () => {
          badSql++;
          return Promise.reject(new KafkalakeError('Parser Error: syntax error at or near "SELEC"', { where: 'sql/reports/x.sql', retriable: false }));
        },
      }),
      job('always-down', {
        cron: '0 0 1 1 *',
        run: () => Promise.reject(new KafkalakeError('connect ECONNREFUSED', { where: 'glue', retriable: true })),
      }),
    ],
    history: memoryHistory(),
    log,
    metrics,
    retry,
    keepRuns: 10,
  });
  await s.start();
  const [a, b, c, d] = await Promise.all(['flaky', 'denied', 'bad-sql', 'always-down'].map((n) => s.trigger(n)));
  await s.close();
  t.like(a, { outcome: 'succeeded', attempts: 3, summary: 'ok on the third try' });
  t.is(flaky, 3);
  t.like(b, { outcome: 'failed', attempts: 1, retriable: false });
  t.is(denied, 1);
  t.like(c, { outcome: 'failed', attempts: 1, retriable: false });
  t.is(badSql, 1);
  t.like(d, { outcome: 'failed', attempts: retry.retries + 1, retriable: true });
  t.regex(d?.error ?? '', /failed after 4 attempts/);
  t.is(metrics.counts.get('JobFailure {"Kind":"report"}'), 2);
  t.is(metrics.counts.get('JobSuccess {"Job":"flaky"}'), 1);
});

test('a run retried to success logs how long its last attempt took, apart from the whole run', async (t) => {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new PassThrough();
  stream.on('data', (b: Buffer) => {
    for (const l of b.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  let tries = 0;
  const s = createScheduler({
    jobs: [
      job('etl', {
        cron: '0 0 1 1 *',
        run: async () => {
          tries++;
          await sleep(tries < 3 ? 100 : 150);
          if (tries < 3) throw new KafkalakeError('read ECONNRESET', { where: 's3://b', retriable: true });
          return { changed: false };
        },
      }),
    ],
    history: memoryHistory(),
    log: createLogger({ daemon: 'scheduler-test', level: 'info', stream }),
    retry,
    keepRuns: 10,
  });
  await s.start();
  const rec = await s.trigger('etl');
  await s.close();
  const done = lines.find((l) => l.message === 'job succeeded');
  t.is(rec?.attempts, 3);
  const last = Number(done?.lastAttemptMs);
  t.true(last >= 140 && last < 300, `last attempt ${last} ms`);
  t.true(Number(done?.durationMs) >= last + 200, `the run ${String(done?.durationMs)} ms holds two failed attempts of 100 ms before it`);
});

test('dependencies: crawl runs after an ETL run that changed something (not otherwise); a report waits for the crawl', async (t) => {
  const events: string[] = [];
  let etlChanges = true;
  const step = (name: string, ms: number, changed = true) => async () => {
    events.push(`${name}:start`);
    await sleep(ms);
    events.push(`${name}:end`);
    return { changed };
  };
  const s = createScheduler({
    jobs: [
      job('etl', {
        cron: '0 0 1 1 *',
        run: async () => {
          const r = await step('etl', 300, etlChanges)();
          return r;
        },
      }),
      job('crawl', { dependsOn: 'etl', run: step('crawl', 400) }),
      job('report', { cron: '0 0 1 1 *', dependsOn: 'crawl', run: step('report', 50) }),
    ],
    history: memoryHistory(),
    log,
    retry,
    keepRuns: 10,
  });
  await s.start();
  t.is(await s.trigger('report'), undefined, 'the crawl never succeeded: nothing to report on yet');
  t.deepEqual(events, []);
  const etl = s.trigger('etl');
  await sleep(100);
  const report = s.trigger('report'); // fired while the ETL runs: waits for the ETL and then the crawl it starts
  await Promise.all([etl, report]);
  await s.idle();
  t.deepEqual(events, ['etl:start', 'etl:end', 'crawl:start', 'crawl:end', 'report:start', 'report:end']);
  t.is(s.history().jobs.crawl?.runs[0]?.reason, 'dependency');

  events.length = 0;
  etlChanges = false;
  await s.trigger('etl');
  await s.idle();
  await s.close();
  t.deepEqual(events, ['etl:start', 'etl:end']);
});

test('an upstream change while the dependent job still runs makes it run once more when it ends, not never', async (t) => {
  const events: string[] = [];
  const step = (name: string, ms: number) => async () => {
    events.push(`${name}:start`);
    await sleep(ms);
    events.push(`${name}:end`);
    return { changed: true };
  };
  const s = createScheduler({
    jobs: [job('etl', { cron: '0 0 1 1 *', run: step('etl', 50) }), job('crawl', { dependsOn: 'etl', run: step('crawl', 500) })],
    history: memoryHistory(),
    log,
    retry,
    keepRuns: 10,
  });
  await s.start();
  await s.trigger('etl'); // starts crawl #1
  await sleep(100);
  await s.trigger('etl'); // ends while crawl #1 runs: two more ETL changes, one more crawl
  await s.trigger('etl');
  await s.idle();
  await sleep(50);
  await s.idle();
  await s.close();
  t.deepEqual(events, ['etl:start', 'etl:end', 'crawl:start', 'etl:start', 'etl:end', 'etl:start', 'etl:end', 'crawl:end', 'crawl:start', 'crawl:end']);
});

test('upkeep gives way to a dependency that is behind: the compaction waiting on a failed ETL run is skipped, the next ETL run is not queued behind it', async (t) => {
  const events: string[] = [];
  let etlFails = true;
  const metrics = recorder();
  const s = createScheduler({
    jobs: [
      job('etl', {
        cron: '0 0 1 1 *',
        group: 'lake',
        run: async () => {
          events.push('etl:start');
          await sleep(100);
          events.push('etl:end');
          if (etlFails) throw new KafkalakeError('cannot write: read ECONNRESET', { where: 's3://b/k', retriable: false });
          return { changed: true };
        },
      }),
      job('compact', {
        cron: '0 0 1 1 *',
        group: 'lake',
        dependsOn: 'etl',
        yieldsToFailedDependency: true,
        run: async () => {
          events.push('compact');
          return { changed: false };
        },
      }),
    ],
    // the ETL has succeeded before (else a dependent job is not ready at all)
    history: memoryHistory({ ...emptyHistory(), jobs: { etl: { runs: [{ job: 'etl', reason: 'schedule', start: new Date().toISOString(), durationMs: 1, outcome: 'succeeded', attempts: 1 }], skipped: 0 } } }),
    log,
    metrics,
    retry,
    keepRuns: 10,
  });
  await s.start();
  const etl = s.trigger('etl');
  await sleep(30);
  t.is(await s.trigger('compact'), undefined, 'fired while the ETL run that fails is going: skipped');
  await etl;
  t.is(await s.trigger('compact'), undefined, 'the latest ETL run failed: skipped');
  t.is(metrics.counts.get('JobSkipped {"Job":"compact"}'), 2);
  t.is(s.history().jobs.compact?.skipped, 2);
  etlFails = false;
  await s.trigger('etl');
  const rec = await s.trigger('compact');
  await s.close();
  t.is(rec?.outcome, 'succeeded', 'the ETL caught up: the compaction runs');
  t.deepEqual(events, ['etl:start', 'etl:end', 'etl:start', 'etl:end', 'compact']);
});

test('jobs of one group run one at a time, in the order they fired', async (t) => {
  const events: string[] = [];
  const step = (name: string) => async () => {
    events.push(`${name}:start`);
    await sleep(150);
    events.push(`${name}:end`);
    return { changed: false };
  };
  const s = createScheduler({
    jobs: ['a', 'b', 'c'].map((n) => job(n, { cron: '0 0 1 1 *', group: 'reports', run: step(n) })),
    history: memoryHistory(),
    log,
    retry,
    keepRuns: 10,
  });
  await s.start();
  await Promise.all(['a', 'b', 'c'].map((n) => s.trigger(n)));
  await s.close();
  t.deepEqual(events, ['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
});

test('a schedule missed while the daemon was down runs once on start, not once per missed fire', async (t) => {
  const hourAgo = new Date(Date.now() - 3600_000).toISOString();
  const recent = new Date(Date.now() - 500).toISOString();
  const h: History = emptyHistory();
  const rec = (job: string, start: string) => ({ job, reason: 'schedule' as const, start, durationMs: 5, outcome: 'succeeded' as const, attempts: 1 });
  h.jobs.minutely = { runs: [rec('minutely', hourAgo)], skipped: 0 }; // missed ~60 fires
  h.jobs.hourly = { runs: [rec('hourly', recent)], skipped: 0 }; // next fire still ahead
  let minutely = 0;
  let hourly = 0;
  let fresh = 0;
  const s = createScheduler({
    jobs: [
      job('minutely', { cron: '0 * * * * *', run: () => Promise.resolve({ changed: false }).finally(() => minutely++) }),
      job('hourly', { cron: '0 0 * * * *', run: () => Promise.resolve({ changed: false }).finally(() => hourly++) }),
      job('fresh', { cron: '0 * * * * *', run: () => Promise.resolve({ changed: false }).finally(() => fresh++) }),
    ],
    history: memoryHistory(h),
    log,
    retry,
    keepRuns: 10,
    // fixed at a second past the minute so no real fire of '0 * * * * *' lands inside the test
    now: () => new Date(Math.floor(Date.now() / 60_000) * 60_000 + 1000),
  });
  // wait until we are not near a minute boundary, so node-cron does not fire on its own
  while (new Date().getUTCSeconds() > 55 || new Date().getUTCSeconds() < 2) await sleep(500);
  await s.start();
  await s.idle();
  await sleep(1200);
  await s.close();
  t.is(minutely, 1);
  t.is(hourly, 0);
  t.is(fresh, 0, 'no history: nothing was missed');
  t.is(s.history().jobs.minutely?.runs[0]?.reason, 'catch-up');
});

test('fire times come from cron-parser with the seconds field, in UTC', (t) => {
  const at = new Date('2026-01-01T10:00:07Z');
  t.is(nextFire('*/15 * * * * *', at).toISOString(), '2026-01-01T10:00:15.000Z');
  t.is(nextFire('0 3 * * *', at).toISOString(), '2026-01-02T03:00:00.000Z');
  t.is(missedFire('0 * * * *', new Date('2026-01-01T09:59:00Z'), at)?.toISOString(), '2026-01-01T10:00:00.000Z');
  t.is(missedFire('0 * * * *', new Date('2026-01-01T10:00:00Z'), at), undefined);
});

test('a job with a bad cron or an unknown dependency is refused at construction, naming it', (t) => {
  const base = { history: memoryHistory(), log, retry, keepRuns: 1 };
  t.throws(() => createScheduler({ ...base, jobs: [job('x', { cron: '61 * * * *', run: () => Promise.resolve({ changed: false }) })] }), { message: /"61 \* \* \* \*" is not a cron expression/ });
  t.throws(() => createScheduler({ ...base, jobs: [job('x', { dependsOn: 'nope', run: () => Promise.resolve({ changed: false }) })] }), { message: /job x depends on "nope"/ });
});
