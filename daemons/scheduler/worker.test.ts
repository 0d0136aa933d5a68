// The job worker protocol with real forked processes (the fixture table in test/fixtures/job-worker.ts):
// a reply comes back, a failure keeps its one line and retriability, a crash and a timeout end as one
// line each, the spare is forked ahead, the log masks secrets, and a killed scheduler takes its worker along.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { Writable } from 'node:stream';
import path from 'node:path';
import test from 'ava';
import { loadConfig } from '../lib/config/index.js';
import { KafkalakeError } from '../lib/errors.js';
import { createLogger } from '../lib/log.js';
import { PROJECT_ROOT } from '../lib/paths.js';
import { createWorkerPool, type WorkerRequest } from './worker.js';

const FIXTURES = path.join(PROJECT_ROOT, 'dist/test/fixtures');
const workerPath = path.join(FIXTURES, 'job-worker.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SECRET = 'wJalrXUtnFEMI-worker-test-secret';
const { config } = loadConfig({ file: undefined, overrides: { aws: { bucket: 'worker-test', accessKeyId: 'AKIAWORKERTEST', secretAccessKey: SECRET } } });
const request = (job: string, args: string[] = [], logFile?: string): WorkerRequest => ({
  job,
  args,
  config,
  secrets: [SECRET],
  log: { daemon: 'worker-test', level: 'info', ...(logFile ? { file: logFile } : {}) },
});
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function until(what: string, cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(50);
  }
}
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'kl-worker-'));

test('a run happens in another process with the config sent, and its log masks the secrets', async (t) => {
  const dir = tmp();
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _enc, cb) => (lines.push(chunk.toString()), cb()) });
  const pool = createWorkerPool({ workerPath, spare: false, log: createLogger({ daemon: 'worker-test', stream }) });
  try {
    const logFile = path.join(dir, 'jobs.log');
    const out = await pool.run(request('echo', ['a', 'b'], logFile), new AbortController().signal);
    const report = out.report as { pid: number; bucket: string };
    t.not(report.pid, process.pid);
    t.is(report.bucket, 'worker-test');
    t.deepEqual(out.lines, ['echo a b']);
    const log = readFileSync(logFile, 'utf8');
    t.regex(log, /"message":"echo ran"/);
    t.regex(log, /"job":"echo"/);
    t.false(log.includes(SECRET), 'the secret is masked in the worker log');
    t.regex(log, /the key is \*\*\*/);
    const exited = lines.map((l) => JSON.parse(l) as { message: string; job?: string; worker?: number; maxRssMb?: number }).find((l) => l.message === 'job worker exited');
    t.is(exited?.job, 'echo');
    t.is(exited?.worker, report.pid);
    t.true((exited?.maxRssMb ?? 0) > 20, `the worker's peak RSS is logged (${exited?.maxRssMb} MB)`);
  } finally {
    pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a spare worker is forked ahead, so a run does not wait for the imports', async (t) => {
  const pool = createWorkerPool({ workerPath });
  try {
    await sleep(1500);
    const asked = performance.timeOrigin + performance.now();
    const first = (await pool.run(request('echo'), new AbortController().signal)).report as { timeOrigin: number; pid: number };
    t.true(first.timeOrigin < asked - 1000, `the worker started ${Math.round(asked - first.timeOrigin)} ms before the run`);
    await sleep(1500);
    const second = (await pool.run(request('echo'), new AbortController().signal)).report as { timeOrigin: number; pid: number };
    t.not(second.pid, first.pid, 'each run has a fresh process');
    t.true(second.timeOrigin < performance.timeOrigin + performance.now() - 1000, 'the next spare was forked after the first run');
  } finally {
    pool.close();
  }
});

test("a job's failure keeps its line and whether a retry helps; a crash says how the worker ended", async (t) => {
  const pool = createWorkerPool({ workerPath, spare: false });
  try {
    const failed = await t.throwsAsync(pool.run(request('fail'), new AbortController().signal), { instanceOf: KafkalakeError });
    t.is(failed?.message, 'the staging bucket s3://b/x is not readable');
    t.true((failed).retriable);
    const crashed = await t.throwsAsync(pool.run(request('crash'), new AbortController().signal), { instanceOf: KafkalakeError });
    t.regex(crashed?.message ?? '', /^the job worker \(pid \d+, .*job-worker\.js\) ended with exit code 3 before it replied/);
    t.false((crashed).retriable);
    const missing = createWorkerPool({ workerPath: path.join(FIXTURES, 'no-such-worker.js'), spare: false });
    const lost = await t.throwsAsync(missing.run(request('echo'), new AbortController().signal));
    t.regex(lost?.message ?? '', /no-such-worker\.js\) ended with exit code 1/);
  } finally {
    pool.close();
  }
});

test('an aborted run stops its worker: SIGTERM, then SIGKILL for one that ignores it', async (t) => {
  const dir = tmp();
  const pool = createWorkerPool({ workerPath, spare: false, killGraceMs: 500 });
  try {
    for (const mode of ['plain', 'stubborn']) {
      const pidFile = path.join(dir, `${mode}.pid`);
      const ac = new AbortController();
      const run = pool.run(request('hang', [pidFile, mode]), ac.signal);
      await until('the worker wrote its pid', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '', 10_000);
      const pid = Number(readFileSync(pidFile, 'utf8'));
      t.true(alive(pid));
      const reason = new KafkalakeError('timed out after 100 ms', { where: 'job hang' });
      ac.abort(reason);
      const err = await t.throwsAsync(run);
      t.is(err, reason, 'the run ends with the abort reason');
      t.false(alive(pid), `the ${mode} worker is gone`);
    }
  } finally {
    pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a scheduler killed with SIGKILL takes its worker along', async (t) => {
  const dir = tmp();
  const pidFile = path.join(dir, 'hang.pid');
  const parent = spawn(process.execPath, [path.join(FIXTURES, 'worker-parent.js'), pidFile], { stdio: 'inherit' });
  try {
    await until('the worker wrote its pid', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '', 15_000);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const children = readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    t.true(children.includes(pid));
    t.is(children.length, 1, 'the running worker (the next spare is forked when a run ends)');
    parent.kill('SIGKILL');
    await until('the orphaned workers exited', () => !children.some(alive), 5000);
    t.false(children.some(alive));
  } finally {
    parent.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
