// A newcomer's first command, as they run it: `kafkalake up` (what `npm start` runs after set-up) with
// config/local.json on an empty state dir (only the ports are free ones and the state dir is new), as a
// child process. Within a bounded time: no error line on its output, rows in the lake through `kafkalake
// query`, `run report yearly_ohlc` then `reports list` and `reports show` print it, data_quality runs
// (up bootstrapped its tables), and SIGINT stops everything with exit 0 and no process left behind.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { freePort } from '../../daemons/local/ports.js';
import { DAEMON_NICE, UP_DAEMONS } from '../../daemons/cli/up.js';
import { alive, descendants, threadNices } from '../helpers/proc.js';
import { CLI, run, sleep } from '../helpers/pipeline.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-first-run-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test('kafkalake up on an empty state: lake rows, a report, reports list/show, then Ctrl-C stops everything cleanly', async (t) => {
  t.timeout(8 * 60_000);
  const local = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'config/local.json'), 'utf8')) as Record<string, unknown>;
  const stateDir = path.join(dir, 'state');
  const cfg = path.join(dir, 'config.json');
  const ports = { zookeeperPort: await freePort(), kafkaPort: await freePort(), controllerPort: await freePort(), awsPort: await freePort() };
  writeFileSync(cfg, JSON.stringify({ ...local, local: { stateDir, ...ports } }, null, 2));
  const kl = (args: string[], timeoutMs = 120_000) => run(process.execPath, [CLI, ...args, '--config', cfg], timeoutMs);

  const up = spawn(process.execPath, [CLI, 'up', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  up.stdout.on('data', (d: Buffer) => (out += d.toString()));
  up.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => up.once('exit', (code) => resolve(code)));
  let upCode: number | null | undefined;
  void exited.then((c) => (upCode = c));
  // every process `up` starts (the stack's JVMs and twin, the daemons, the scheduler's job workers)
  const seen = new Set<number>();
  const watch = setInterval(() => {
    for (const p of descendants(up.pid!)) seen.add(p);
  }, 250);
  const until = async (what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number) => {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (upCode !== undefined) throw new Error(`kafkalake up exited (${upCode}) while waiting for ${what}:\n${out}\n${err}`);
      if (await cond()) return;
      await sleep(1000);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}:\n${out.slice(-4000)}\n${err}`);
  };

  try {
    await until('up to start every daemon', () => out.includes('running; Ctrl-C stops everything'), 180_000);
    // each daemon runs at its unit's priority, every thread of it (the producer yields the CPU to the pipeline)
    for (const name of UP_DAEMONS) {
      const pid = Number(new RegExp(`^ {2}${name} +pid (\\d+)$`, 'm').exec(out)?.[1]);
      const nices = threadNices(pid);
      t.true(nices.length > 1, `${name}: threads of pid ${pid}`);
      t.deepEqual([...new Set(nices)], [DAEMON_NICE[name]], `${name}: the nice of each thread`);
    }
    t.regex(out, /^ {2}catalog {4}glue database kafkalake, 3 tables, \d+ alarms, dashboard kafkalake/m);
    t.regex(out, /^ {2}topic {6}stock_market_data \(6 partitions\)$/m);

    let rows = 0;
    await until('rows in the lake table through kafkalake query', async () => {
      const q = await kl(['query', 'SELECT count(*) AS n FROM stock_market_data', '--format', 'json']);
      if (q.code !== 0) return false; // the table is not catalogued until the first ETL and crawl
      rows = Number((JSON.parse(q.stdout) as Array<{ n: string }>)[0]?.n);
      return rows > 0;
    }, 240_000);
    t.true(rows > 0);

    const report = await kl(['run', 'report', 'yearly_ohlc']);
    t.is(report.code, 0, report.stderr);
    t.regex(report.stdout, /report yearly_ohlc: [1-9]\d* rows → s3:\/\/kafkalake-local\/reports\/yearly_ohlc\/\d{4}-\d\d-\d\d\.csv/);
    const today = new Date().toISOString().slice(0, 10);
    const list = await kl(['reports', 'list']);
    t.is(list.code, 0, list.stderr);
    t.regex(list.stdout, new RegExp(`^yearly_ohlc +\\| ${today} +\\| [1-9]\\d* +\\| s3://kafkalake-local/reports/yearly_ohlc/${today}\\.csv`, 'm'));
    const show = await kl(['reports', 'show', 'yearly_ohlc']);
    t.is(show.code, 0, show.stderr);
    t.regex(show.stdout, /^index +\| trade_year +\|/m);
    t.true(show.stdout.trim().split('\n').length >= 3, show.stdout);
    // the staging and DLQ tables were made by up's bootstrap: data_quality needs them
    const dq = await kl(['run', 'report', 'data_quality']);
    t.is(dq.code, 0, dq.stderr + dq.stdout);
  } finally {
    up.kill('SIGINT');
  }
  const code = await Promise.race([exited, sleep(90_000).then(() => 'hung' as const)]);
  clearInterval(watch);
  if (code === 'hung') up.kill('SIGKILL');
  t.is(code, 0, `${out.slice(-3000)}\n${err}`);
  // the daemons' own last lines come between: each says it stopped
  t.regex(out, /^stopping the daemons\n[^]*"daemon":"consumer".*"message":"stopped"[^]*\nstopping the stack\n$/m);

  // no error line: the daemons' JSON lines (stdout is a pipe, so log.format auto is json), up's own lines
  const errors = out.split('\n').filter((l) => (l.startsWith('{') ? (JSON.parse(l) as { level?: string }).level === 'error' : /\berror\b/i.test(l)));
  t.deepEqual(errors, []);
  // kafkajs' warning about bounded retries is a choice made on purpose (lib/kafka.ts), not a newcomer's worry
  t.false(out.includes('"level":"warn","message":"Limiting retries'), 'the idempotent-retries warning is shown');
  t.false(/NodeVersionSupportWarning|error/i.test(err), err);
  await sleep(500);
  const left = [...seen].filter(alive);
  t.true(seen.size >= 6, `saw ${seen.size} processes`);
  t.deepEqual(left, [], `still running: ${left.join(', ')}`);
});

test('closing the terminal (SIGHUP to up) stops the daemons and the stack: nothing is left running', async (t) => {
  t.timeout(4 * 60_000);
  const local = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'config/local.json'), 'utf8')) as Record<string, unknown>;
  const cfg = path.join(dir, 'hup.json');
  const ports = { zookeeperPort: await freePort(), kafkaPort: await freePort(), controllerPort: await freePort(), awsPort: await freePort() };
  writeFileSync(cfg, JSON.stringify({ ...local, local: { stateDir: path.join(dir, 'hup-state'), ...ports } }, null, 2));
  const up = spawn(process.execPath, [CLI, 'up', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  up.stdout.on('data', (d: Buffer) => (out += d.toString()));
  up.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => up.once('exit', (code) => resolve(code)));
  const seen = new Set<number>();
  const end = Date.now() + 180_000;
  while (!out.includes('running; Ctrl-C stops everything') && Date.now() < end && up.exitCode === null) {
    for (const p of descendants(up.pid!)) seen.add(p);
    await sleep(250);
  }
  for (const p of descendants(up.pid!)) seen.add(p);
  t.true(out.includes('running; Ctrl-C stops everything'), out);
  // as a closed terminal does: the output goes away with the hangup, so every later write of up fails
  up.stdout.destroy();
  up.stderr.destroy();
  up.kill('SIGHUP');
  const code = await Promise.race([exited, sleep(90_000).then(() => 'hung' as const)]);
  if (code === 'hung') up.kill('SIGKILL');
  t.is(code, 0, out.slice(-3000));
  await sleep(500);
  const left = [...seen].filter(alive);
  t.true(seen.size >= 6, `saw ${seen.size} processes`);
  t.deepEqual(left, [], `still running: ${left.join(', ')}`);
});
