// Child processes of the benchmarks: a kafkalake daemon (`kafkalake <daemon> --config F`, as systemd and
// `kafkalake up` run it: the unit's heap limit and priority) whose JSON log lines are kept, written to a
// file, and can be waited for; and a stop that sends SIGTERM, then SIGKILL after a grace period.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { daemonCommand, type UP_DAEMONS } from '../../daemons/cli/up.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';

export const CLI = path.join(PROJECT_ROOT, 'dist/daemons/cli/main.js');

export type LogLine = Record<string, unknown> & { message?: string };

export interface Daemon {
  name: string;
  child: ChildProcess;
  /** every log line so far (stdout and stderr; JSON lines parsed, others as { message }) */
  lines: LogLine[];
  /** the exit code (or the signal's name) once it has exited */
  exited: Promise<number | string | null>;
  /** the first line, past or future, that matches; rejects at the deadline or when the process exits first */
  waitFor(what: string, match: (l: LogLine) => boolean, timeoutMs: number): Promise<LogLine>;
  /** SIGTERM, then SIGKILL after graceMs; resolves with the exit code */
  stop(graceMs?: number): Promise<number | string | null>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** the nice to run at instead of the unit's (a benchmark's comparison) */
  nice?: number;
}

/** `kafkalake <name> ...args` as its unit starts it */
export function startDaemon(name: (typeof UP_DAEMONS)[number], args: string[], logFile: string, o: StartOptions = {}): Daemon {
  const env = o.env ?? { ...process.env, NODE_NO_WARNINGS: '1' };
  const cmd = daemonCommand(name, args, o.nice);
  const child = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const file = createWriteStream(logFile);
  const lines: LogLine[] = [];
  const waiters = new Set<(l: LogLine) => void>();
  const take = (stream: NodeJS.ReadableStream) => {
    let rest = '';
    stream.on('data', (d: Buffer) => {
      file.write(d);
      const parts = (rest + d.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts) {
        if (!p.trim()) continue;
        let l: LogLine;
        try {
          l = JSON.parse(p) as LogLine;
        } catch {
          l = { message: p };
        }
        lines.push(l);
        for (const w of waiters) w(l);
      }
    });
  };
  take(child.stdout);
  take(child.stderr);
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('close', (code, signal) => {
      file.end();
      resolve(code ?? signal);
    }),
  );
  const d: Daemon = {
    name,
    child,
    lines,
    exited,
    waitFor(what, match, timeoutMs) {
      const found = lines.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const done = (err?: Error, l?: LogLine) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (err) reject(err);
          else resolve(l as LogLine);
        };
        const check = (l: LogLine) => {
          if (match(l)) done(undefined, l);
        };
        const last = () => lines.slice(-3).map((l) => l.message ?? JSON.stringify(l)).join(' | ');
        const timer = setTimeout(() => done(new Error(`${name}: no "${what}" within ${timeoutMs} ms; last lines: ${last()}; log ${logFile}`)), timeoutMs);
        waiters.add(check);
        void exited.then((code) => done(new Error(`${name} exited (${code}) before "${what}"; last lines: ${last()}; log ${logFile}`)));
      });
    },
    async stop(graceMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
  return d;
}
