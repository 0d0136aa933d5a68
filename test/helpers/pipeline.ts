// The whole local pipeline for the end-to-end tests and the soak run: on a started test stack,
// `kafkalake bootstrap`, then the producer, consumer and scheduler daemons as child processes exactly as
// `kafkalake up` and systemd run them (`kafkalake <daemon> --config F`), each supervised as systemd's
// Restart=on-failure would (a daemon that dies of a signal or exits non-zero is started again after
// restartDelayMs). Each daemon's JSON log lines go to a file and to listeners (faults are timed by them);
// status, lag and end offsets are read as an operator would: `kafkalake status --json` and Kafka's admin API.
// Nothing here blocks the event loop (no spawnSync): the AWS outage proxy runs in the same process.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, readdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Admin, Kafka } from 'kafkajs';
import { daemonCommand, UP_DAEMONS } from '../../daemons/cli/up.js';
import type { Config } from '../../daemons/lib/config/index.js';
import { createKafka } from '../../daemons/lib/kafka.js';
import { measureLag, type PartitionLag } from '../../daemons/lib/lag.js';
import { createLogger } from '../../daemons/lib/log.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import type { StatusReport } from '../../daemons/cli/status-report.js';
import { vmRss } from './proc.js';
import type { TestStack } from './stack.js';

export const CLI = path.join(PROJECT_ROOT, 'dist/daemons/cli/main.js');
/** the daemons, started as `kafkalake up` and the systemd units start them (same heap limits and priorities) */
export const DAEMON_NAMES = UP_DAEMONS;
export type DaemonName = (typeof DAEMON_NAMES)[number];

const env = { ...process.env, NODE_NO_WARNINGS: '1' };
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One JSON log line of a daemon (winston: level, message, timestamp, daemon, ...fields). */
export type LogLine = Record<string, unknown> & { message?: string; level?: string; timestamp?: string };

export interface Exit {
  at: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** the supervisor starts it again (a failure, as Restart=on-failure sees it) */
  restarted: boolean;
}

export interface Daemon {
  name: DaemonName;
  /** pid of the running process; undefined between a death and the restart */
  pid(): number | undefined;
  /** how many times it was started */
  starts(): number;
  exits(): Exit[];
  /** call fn with every JSON log line of every run of this daemon from now on; returns an unsubscribe */
  onLine(fn: (line: LogLine) => void): () => void;
  /** the first line matching pred from now on, or a rejection naming `what` after timeoutMs */
  waitForLine(what: string, pred: (line: LogLine) => boolean, timeoutMs: number): Promise<LogLine>;
  /** resolves when the current process has started (spawned), e.g. after a supervised restart */
  running(timeoutMs: number): Promise<number>;
  /** send a signal to the current process and wait (≤ 10 s) until it has exited (after SIGKILL the supervisor restarts it) */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** SIGTERM and wait (bounded); no restart. Resolves with the exit code (null: killed at the deadline). */
  stop(timeoutMs?: number): Promise<number | null>;
  logFile: string;
  /** the last n lines of the log file, for failure messages */
  tail(n?: number): string;
}

export interface PipelineOptions {
  stack: TestStack;
  bucket: string;
  /** where the daemons' logs and config files go */
  dir: string;
  /** producer records/s (source simulate) */
  rate: number;
  partitions: number;
  /** the AWS endpoint the daemons use (a proxy's, for an outage); default the stack's */
  awsEndpoint?: string;
  /** config overrides for every daemon, merged over this helper's */
  common?: Record<string, unknown>;
  /** per daemon, merged over common */
  perDaemon?: Partial<Record<DaemonName, Record<string, unknown>>>;
  /** systemd's RestartSec */
  restartDelayMs?: number;
  /** supervised daemons; a daemon left out is not restarted after a failure. Default: consumer, scheduler */
  restartOnFailure?: DaemonName[];
}

export interface StatusResult {
  code: number | null;
  report: StatusReport | undefined;
  text: string;
}

export interface Pipeline {
  bucket: string;
  topic: string;
  groupId: string;
  /** the config file of each daemon (and of the CLI commands, `common`) */
  files: Record<DaemonName | 'common', string>;
  /** the loaded config of `common` (the stack's own AWS endpoint, not the proxy) */
  config: Readonly<Config>;
  daemons: Record<DaemonName, Daemon>;
  /** start the daemons (producer, consumer, scheduler) */
  start(): Promise<void>;
  /** `kafkalake <args> --config <common>`, bounded; stdout, stderr and the exit code */
  cli(args: string[], timeoutMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }>;
  status(): Promise<StatusResult>;
  /** end offsets and the group's committed offsets per partition (Kafka admin API) */
  lag(): Promise<PartitionLag[]>;
  /** SIGKILL whatever still runs, close the admin client */
  close(): Promise<void>;
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur) ? merge(cur as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** A child process run to its end, bounded: SIGKILLed at the deadline. */
export function run(command: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function supervise(name: DaemonName, file: string, logFile: string, restartDelayMs: number, restart: boolean): Daemon & { start(): void; kill9(): Promise<void> } {
  const out: WriteStream = createWriteStream(logFile, { flags: 'a' });
  const listeners = new Set<(l: LogLine) => void>();
  const exits: Exit[] = [];
  let child: ChildProcess | undefined;
  let starts = 0;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  const startedWaiters: Array<(pid: number) => void> = [];

  const start = () => {
    restartTimer = undefined;
    if (stopping) return;
    const cmd = daemonCommand(name, ['--config', file]);
    const c = spawn(cmd.command, cmd.args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    child = c;
    starts++;
    out.write(`${JSON.stringify({ supervisor: 'started', pid: c.pid, at: new Date().toISOString() })}\n`);
    c.stderr?.pipe(out, { end: false });
    if (c.stdout) {
      createInterface({ input: c.stdout, crlfDelay: Infinity }).on('line', (raw) => {
        out.write(`${raw}\n`);
        if (!raw.startsWith('{')) return;
        let line: LogLine;
        try {
          line = JSON.parse(raw) as LogLine;
        } catch {
          return;
        }
        for (const fn of listeners) fn(line);
      });
    }
    c.once('exit', (code, signal) => {
      const failed = !stopping && (signal !== null || code !== 0);
      const again = failed && restart;
      exits.push({ at: Date.now(), code, signal, restarted: again });
      out.write(`${JSON.stringify({ supervisor: 'exited', pid: c.pid, code, signal, restart: again, at: new Date().toISOString() })}\n`);
      if (child === c) child = undefined;
      if (again) restartTimer = setTimeout(start, restartDelayMs);
    });
    if (c.pid !== undefined) for (const w of startedWaiters.splice(0)) w(c.pid);
  };

  const alive = (c: ChildProcess | undefined): c is ChildProcess => c !== undefined && c.exitCode === null && c.signalCode === null;
  const exited = (c: ChildProcess) => new Promise<void>((r) => (alive(c) ? c.once('exit', () => r()) : r()));

  return {
    name,
    logFile,
    start,
    pid: () => (alive(child) ? child.pid : undefined),
    starts: () => starts,
    exits: () => [...exits],
    onLine(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    waitForLine(what, pred, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(fn);
          reject(new Error(`${name}: no log line ${what} within ${timeoutMs} ms; last lines: ${this.tail(5)}`));
        }, timeoutMs);
        const fn = (l: LogLine) => {
          if (!pred(l)) return;
          clearTimeout(timer);
          listeners.delete(fn);
          resolve(l);
        };
        listeners.add(fn);
      });
    },
    running(timeoutMs) {
      if (alive(child) && child.pid !== undefined) return Promise.resolve(child.pid);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} not running again within ${timeoutMs} ms`)), timeoutMs);
        startedWaiters.push((pid) => {
          clearTimeout(timer);
          resolve(pid);
        });
      });
    },
    async kill(signal) {
      const c = child;
      if (!alive(c)) return;
      c.kill(signal);
      await Promise.race([exited(c), sleep(10_000)]);
    },
    async stop(timeoutMs = 30_000) {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const c = child;
      if (!alive(c)) return exits.at(-1)?.code ?? null;
      c.kill('SIGTERM');
      const deadline = sleep(timeoutMs).then(() => 'late' as const);
      if ((await Promise.race([exited(c), deadline])) === 'late') {
        c.kill('SIGKILL');
        await exited(c);
        return null;
      }
      return c.exitCode;
    },
    async kill9() {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const c = child;
      if (alive(c)) {
        c.kill('SIGKILL');
        await exited(c);
      }
      await new Promise<void>((r) => out.end(() => r()));
    },
    tail(n = 20) {
      try {
        return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
      } catch {
        return '';
      }
    },
  };
}

/**
 * Write the configs, run `kafkalake bootstrap`, create the topic. The daemons start with start().
 * Defaults suit a test: metrics every 2 s, 10 s alarm periods, the scheduler's monitors every few seconds,
 * ETL every 12 s, the SQL engine's cache and the ETL's work dirs under the stack's temp dir.
 */
export async function createPipeline(o: PipelineOptions): Promise<Pipeline> {
  const topic = 'stock_market_data'; // the table spec and the saved reports name it
  const groupId = `kl-group-${path.basename(o.dir).replace(/[^a-zA-Z0-9-]/g, '')}`;
  const base: Record<string, unknown> = {
    aws: { bucket: o.bucket, ...(o.awsEndpoint ? { endpoint: o.awsEndpoint } : {}) },
    log: { level: 'info' },
    kafka: { partitions: o.partitions },
    consumer: { groupId },
    producer: { source: 'simulate', rate: o.rate, statsIntervalMs: 10_000 },
    etl: { cron: '*/12 * * * * *', memoryMb: 512, threads: 1, workDir: path.join(o.dir, 'etl-work') },
    reports: { memoryMb: 512, threads: 1, cacheDir: path.join(o.dir, 'sql-cache') },
    metrics: { flushIntervalMs: 2000 },
    monitoring: { periodSeconds: 10, lagThreshold: Math.max(50_000, o.rate * 60) },
    scheduler: { lagIntervalMs: 5000, alarmIntervalMs: 10_000, retryMinMs: 1000, retryMaxMs: 5000 },
  };
  // the local ETL does not create its work dir (and a run that fails there keeps its lock: see the report)
  mkdirSync(path.join(o.dir, 'etl-work'), { recursive: true });
  const common = merge(base, o.common ?? {});
  const files = {
    common: o.stack.configFile(merge(common, { aws: { endpoint: o.stack.awsEndpoint } })),
    producer: o.stack.configFile(merge(common, o.perDaemon?.producer ?? {})),
    consumer: o.stack.configFile(merge(common, o.perDaemon?.consumer ?? {})),
    scheduler: o.stack.configFile(merge(common, o.perDaemon?.scheduler ?? {})),
  };
  const config = o.stack.config(merge(common, { aws: { endpoint: o.stack.awsEndpoint } }));
  const cli: Pipeline['cli'] = (args, timeoutMs = 120_000) => run(process.execPath, [CLI, ...args, '--config', files.common], timeoutMs);

  const boot = await cli(['bootstrap']);
  if (boot.code !== 0) throw new Error(`kafkalake bootstrap failed (${boot.code}): ${boot.stderr || boot.stdout}`);
  const kafka: Kafka = createKafka({ kafka: { ...config.kafka, retries: 3, requestTimeoutMs: 5000 }, log: createLogger({ daemon: 'pipeline-test', silent: true }), clientSuffix: 'pipeline-test' });
  const admin: Admin = kafka.admin();
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: o.partitions }], waitForLeaders: true });
  } catch (err) {
    await admin.disconnect().catch(() => undefined);
    throw err;
  }

  const supervised = new Set(o.restartOnFailure ?? ['consumer', 'scheduler']);
  const daemons = Object.fromEntries(
    DAEMON_NAMES.map((n) => [n, supervise(n, files[n], path.join(o.dir, `${n}.log`), o.restartDelayMs ?? 1500, supervised.has(n))]),
  ) as Record<DaemonName, ReturnType<typeof supervise>>;

  return {
    bucket: o.bucket,
    topic,
    groupId,
    files,
    config,
    daemons,
    async start() {
      for (const n of DAEMON_NAMES) daemons[n].start();
      await Promise.all(DAEMON_NAMES.map((n) => daemons[n].running(10_000)));
    },
    cli,
    async status() {
      const r = await cli(['status', '--json'], 90_000);
      let report: StatusReport | undefined;
      try {
        report = JSON.parse(r.stdout) as StatusReport;
      } catch {
        report = undefined;
      }
      return { code: r.code, report, text: r.stdout + r.stderr };
    },
    lag: () => measureLag(admin, groupId, topic),
    async close() {
      await Promise.all(DAEMON_NAMES.map((n) => daemons[n].kill9()));
      await admin.disconnect().catch(() => undefined);
    },
  };
}

/** Resident memory (bytes) and open file descriptors of a process, from /proc; undefined when it is gone. */
export function processUsage(pid: number): { rss: number; fds: number } | undefined {
  try {
    const fds = readdirSync(`/proc/${pid}/fd`).length;
    return { rss: vmRss(pid), fds };
  } catch {
    return undefined;
  }
}

/** Poll until check() returns a value (not undefined), or throw naming `what` after timeoutMs. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(intervalMs);
  }
}
