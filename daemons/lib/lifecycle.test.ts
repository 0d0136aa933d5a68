// Exit behaviour, tested in a child process (as pino does): signals, the deadline, crashes.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { closeAll, once } from './lifecycle.js';
import { PROJECT_ROOT } from './paths.js';

const FIXTURE = path.join(PROJECT_ROOT, 'dist/test/fixtures/daemon.js');

interface Run {
  code: number | null;
  lines: Array<Record<string, unknown>>;
  ms: number;
}

async function run(mode: string, marker: string, signal?: NodeJS.Signals): Promise<Run> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [FIXTURE, mode, marker], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let signalled = false;
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (signal && !signalled && (out.includes('"ready"') || out.includes('"waiting"'))) {
      signalled = true;
      child.kill(signal);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, ms: Date.now() - t0, lines: out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

// One directory for the whole file, removed however the tests end.
const base = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-life-'));
test.after.always(() => rmSync(base, { recursive: true, force: true }));
const tmp = () => path.join(mkdtempSync(path.join(base, 'run-')), 'marker');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} stops gracefully: close() finishes its flush, then exit 0`, async (t) => {
    const marker = tmp();
    const r = await run('ok', marker, signal);
    t.is(r.code, 0);
    t.is(readFileSync(marker, 'utf8'), 'flushed');
    t.truthy(r.lines.find((l) => l.message === 'stopping' && l.signal === signal));
    t.truthy(r.lines.find((l) => l.message === 'stopped'));
  });
}

test('a second signal while stopping does not cut the graceful stop short', async (t) => {
  const marker = tmp();
  const child = spawn(process.execPath, [FIXTURE, 'ok', marker], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    const first = !out.includes('"ready"');
    out += d.toString();
    if (first && out.includes('"ready"')) {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGTERM'), 50);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  t.is(code, 0);
  t.is(readFileSync(marker, 'utf8'), 'flushed');
  t.true(out.includes('already stopping'));
});

test('a stop that overruns its deadline exits 1 with one line saying so', async (t) => {
  const marker = tmp();
  const r = await run('hang', marker, 'SIGTERM');
  t.is(r.code, 1);
  t.false(existsSync(marker));
  t.truthy(r.lines.find((l) => l.level === 'error' && String(l.message).includes('graceful stop took too long')));
  t.true(r.ms < 10_000);
});

test('a crash logs one error line and exits 1 (so systemd restarts it)', async (t) => {
  const r = await run('crash', tmp());
  t.is(r.code, 1);
  const err = r.lines.find((l) => l.level === 'error');
  t.is(err?.message, 'crashed');
  t.is(err?.error, 'disk on fire');
});

test('a failed start logs why and exits 1', async (t) => {
  const r = await run('fail-start', tmp());
  t.is(r.code, 1);
  t.like(r.lines.find((l) => l.level === 'error'), { message: 'failed to start', error: 'cannot reach 127.0.0.1:1 (ECONNREFUSED)' });
});

test('closeAll runs every step even when some fail, then reports them', async (t) => {
  const ran: string[] = [];
  const err = await t.throwsAsync(
    closeAll([
      ['a', () => ran.push('a')],
      ['b', () => Promise.reject(new Error('b broke'))],
      ['c', () => ran.push('c')],
      ['d', () => { throw new Error('d broke'); }],
    ]),
  );
  t.deepEqual(ran, ['a', 'c']);
  t.regex(err?.message ?? '', /2 close steps failed: b broke; d broke/);
});

test('once() makes close idempotent', async (t) => {
  let n = 0;
  const close = once(async () => {
    n++;
  });
  await Promise.all([close(), close()]);
  await close();
  t.is(n, 1);
});

test('a signal while start() still waits ends the wait and exits 0: stopping before starting is no failure', async (t) => {
  const r = await run('wait-start', tmp(), 'SIGTERM');
  t.is(r.code, 0);
  t.truthy(r.lines.find((l) => l.message === 'stopped before it started' && l.signal === 'SIGTERM'));
  t.falsy(r.lines.find((l) => l.level === 'error'));
});

test('a start that ignores the signal is cut off after shutdownTimeoutMs with exit 1 and one line', async (t) => {
  const r = await run('stuck-start', tmp(), 'SIGTERM');
  t.is(r.code, 1);
  t.truthy(r.lines.find((l) => l.level === 'error' && l.message === 'start did not give up in time, exiting anyway'));
  t.true(r.ms < 10_000, `exited after ${r.ms} ms`);
});
