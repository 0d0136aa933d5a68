// Start and stop the local stack's processes: as children of this process (kafkalake up, tests) or
// detached with a pid file (kafkalake stack start), their output in a log file under the state dir.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KafkalakeError } from '../lib/errors.js';

export interface ManagedProcess {
  name: string;
  pid: number;
  logFile: string;
  /** resolves with the exit code when the process ends */
  exited: Promise<number | null>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  dir: string;
  env?: NodeJS.ProcessEnv;
  detached: boolean;
}

export function pidFile(dir: string, name: string): string {
  return path.join(dir, `${name}.pid`);
}

export function startProcess(o: SpawnOptions): ManagedProcess {
  mkdirSync(o.dir, { recursive: true });
  const logFile = path.join(o.dir, `${o.name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(o.command, o.args, {
    cwd: o.dir,
    env: { ...process.env, ...o.env },
    stdio: ['ignore', fd, fd],
    detached: true, // own process group, so stop() reaches the JVM's children too
  });
  closeSync(fd);
  if (child.pid === undefined) throw new KafkalakeError(`cannot start ${o.name}: ${o.command} did not start`, { where: o.name });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
    child.once('error', () => resolve(127));
  });
  if (o.detached) {
    child.unref();
    writeFileSync(pidFile(o.dir, o.name), String(child.pid));
  }
  return { name: o.name, pid: child.pid, logFile, exited };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM the process group, then SIGKILL after timeoutMs. */
export async function stopPid(pid: number, timeoutMs: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  if (!alive(pid)) return;
  signal('SIGTERM');
  const until = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < until) await sleep(100);
  if (alive(pid)) {
    signal('SIGKILL');
    while (alive(pid)) await sleep(50);
  }
}

export function readPid(dir: string, name: string): number | undefined {
  const f = pidFile(dir, name);
  if (!existsSync(f)) return undefined;
  const pid = Number(readFileSync(f, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function clearPid(dir: string, name: string): void {
  rmSync(pidFile(dir, name), { force: true });
}

/** The last lines of a log file, for an error that says why a service did not come up. */
export function tail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}

/** Poll probe() until it answers true (a string: why not yet), the process dies, or the deadline passes. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean | string>,
  opts: { timeoutMs: number; proc?: ManagedProcess; intervalMs?: number },
): Promise<void> {
  const until = Date.now() + opts.timeoutMs;
  let dead = false;
  void opts.proc?.exited.then(() => (dead = true));
  let why = '';
  for (;;) {
    const answer = await probe();
    if (answer === true) return;
    if (typeof answer === 'string') why = `; last answer: ${answer}`;
    if (dead && opts.proc) {
      throw new KafkalakeError(`${what} exited while starting; last log lines (${opts.proc.logFile}): ${tail(opts.proc.logFile)}`, { where: what });
    }
    if (Date.now() > until) {
      const log = opts.proc ? `; last log lines (${opts.proc.logFile}): ${tail(opts.proc.logFile)}` : '';
      throw new KafkalakeError(`${what} did not answer within ${opts.timeoutMs} ms${why}${log}`, { where: what, retriable: true });
    }
    await sleep(opts.intervalMs ?? 250);
  }
}
