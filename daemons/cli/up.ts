// kafkalake up — local mode: the stack, then what a newcomer looks at next (bootstrap: the bucket, the
// Glue database and tables, the alarms and the dashboard in the twin; the topic), then every daemon, each
// a child process run exactly as systemd would run it (`node --max-old-space-size=N kafkalake <daemon>`).
// Their log lines are passed through: short lines on a terminal, JSON lines otherwise (log.format; the
// children are told what it came to). Ctrl-C stops the daemons (SIGTERM, graceful), then the stack.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { oneLine } from '../lib/errors.js';
import { createKafka } from '../lib/kafka.js';
import { resolveLogFormat } from '../lib/log.js';
import { ensureTopic } from '../lib/topic.js';
import { startStack } from '../local/stack.js';
import { bootstrapAll } from './bootstrap.js';
import { type Command, context, parse, UsageError } from './context.js';

const usage = 'kafkalake up [--config FILE]';

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));

/** The daemons `up` runs, in start order. */
export const UP_DAEMONS = ['producer', 'consumer', 'scheduler'] as const;

/**
 * Each daemon's V8 heap limit (MB), as the systemd units set it (Ansible's kafkalake_heap_mb; a test
 * holds the two equal). Without it V8 sizes the heap from the machine's memory (gigabytes) and lets
 * it grow long before collecting, which reads as a leak in the daemon's RSS.
 */
export const DAEMON_HEAP_MB: Readonly<Record<(typeof UP_DAEMONS)[number], number>> = { producer: 256, consumer: 512, scheduler: 512 };

/** The node arguments that start a daemon as its unit does. */
export const daemonArgs = (name: (typeof UP_DAEMONS)[number], rest: string[]) => [`--max-old-space-size=${DAEMON_HEAP_MB[name]}`, CLI, name, ...rest];

/**
 * Each daemon's CPU priority (nice), as the systemd units set it (Ansible's kafkalake_nice, Nice= and the
 * matching CPUWeight=; a test holds the two equal). The producer replays data as fast as it is allowed:
 * on a host it shares with the pipeline, at the same priority it takes the CPU the consumer and the ETL
 * need, and the lake falls behind for as long as it sends. At nice 10 it gets what the pipeline leaves.
 */
export const DAEMON_NICE: Readonly<Record<(typeof UP_DAEMONS)[number], number>> = { producer: 10, consumer: 0, scheduler: 0 };

/**
 * The command that starts a daemon as its unit does: node with the unit's heap limit, under `nice` when
 * the unit lowers its priority (nice execs node, so the pid is the daemon's, and every thread of it,
 * V8's and libuv's included, starts at that priority).
 */
export function daemonCommand(name: (typeof UP_DAEMONS)[number], rest: string[], nice = DAEMON_NICE[name]): { command: string; args: string[] } {
  const args = daemonArgs(name, rest);
  return nice ? { command: 'nice', args: ['-n', String(nice), process.execPath, ...args] } : { command: process.execPath, args };
}


export const up: Command = {
  name: 'up',
  summary: 'local mode: start the stack and every daemon; Ctrl-C stops all',
  usage,
  async run(args) {
    const { values } = parse(args, {}, usage);
    if (values.help) {
      process.stdout.write(`usage: ${usage}\n`);
      return 0;
    }
    const ctx = context('up', values.config, {}, 'stderr');
    if (ctx.config.mode !== 'local') throw new UsageError(`kafkalake up runs local mode only; ${ctx.file} sets mode ${ctx.config.mode}`);
    // once the terminal is gone (SIGHUP) or the reader of a pipe closed, a write fails (EIO, EPIPE) with
    // an 'error' event that would end this process before it stopped the stack: stop writing instead
    let closed = false;
    const gone = () => void (closed = true);
    process.stdout.on('error', gone);
    process.stderr.on('error', gone);
    const out = (line: string) => void (closed || process.stdout.write(`${line}\n`));
    const s = ctx.config.local;
    out(`starting the local stack (state in ${s.stateDir})`);
    const stack = await startStack(s, { timeoutMs: s.startTimeoutMs, log: ctx.log });
    out(`  zookeeper  ${s.kraft ? '(KRaft: none)' : `${s.host}:${s.zookeeperPort}`}`);
    out(`  kafka      ${stack.brokers.join(',')}`);
    out(`  aws twin   ${stack.awsEndpoint}`);
    // what the daemons and a newcomer's next commands (status, query, reports) need, before any daemon
    // starts: the consumer then never waits for its topic, and data_quality finds its tables
    const prepared = async () => {
      const made = await bootstrapAll(ctx.config);
      const changed = made.filter((r) => r.result !== 'unchanged').length;
      const alarms = made.filter((r) => r.resource.startsWith('alarm ')).length;
      const tables = made.filter((r) => r.resource.startsWith('glue table ')).length;
      out(`  bucket     s3://${ctx.config.aws.bucket}`);
      out(`  catalog    glue database ${ctx.config.crawl.database}, ${tables} tables, ${alarms} alarms, dashboard ${ctx.config.monitoring.dashboardName} (${changed} of ${made.length} created or updated)`);
      const k = ctx.config.kafka;
      const partitions = await ensureTopic({ kafka: createKafka({ kafka: k, log: ctx.log, clientSuffix: 'up' }), brokers: k.brokers, topic: k.topic, partitions: k.partitions, replicationFactor: k.replicationFactor, log: ctx.log });
      out(`  topic      ${k.topic} (${partitions.length} partitions)`);
    };
    try {
      await prepared();
    } catch (err) {
      await stack.stop().catch(() => undefined);
      throw err;
    }
    // each daemon decides as this process would have: its stdout is a pipe to us, ours may be a terminal
    const logFormat = resolveLogFormat(ctx.config.log.format, process.stdout);

    const children = new Map<string, ChildProcess>();
    let stopping = false;
    const done = new Promise<number>((resolve) => {
      const stopAll = async (code: number) => {
        if (stopping) return;
        stopping = true;
        out('stopping the daemons');
        await Promise.all(
          [...children].map(
            ([, child]) =>
              new Promise<void>((r) => {
                if (child.exitCode !== null || child.signalCode !== null) return r();
                child.once('exit', () => r());
                child.kill('SIGTERM');
              }),
          ),
        );
        out('stopping the stack');
        await stack.stop().catch((e: unknown) => out(`stack stop: ${oneLine(e)}`));
        resolve(code);
      };
      process.once('SIGINT', () => void stopAll(0));
      process.once('SIGTERM', () => void stopAll(0));
      // the terminal closed: stop as on Ctrl-C, or the stack's JVMs (their own sessions) outlive it
      process.once('SIGHUP', () => void stopAll(0));
      for (const name of UP_DAEMONS) {
        const { command, args: argv } = daemonCommand(name, values.config ? ['--config', values.config] : []);
        const child = spawn(command, argv, {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, KAFKALAKE_LOG_FORMAT: logFormat },
        });
        children.set(name, child);
        out(`  ${name.padEnd(10)} pid ${child.pid ?? '?'}`);
        // log lines carry the daemon's name already; anything else (node's own warnings) gets it here
        if (child.stdout) createInterface({ input: child.stdout }).on('line', out);
        if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => out(`[${name}] ${line}`));
        child.once('exit', (code, signal) => {
          if (stopping) return;
          out(`${name} exited (${signal ?? `code ${code}`}); stopping everything`);
          void stopAll(code === 0 ? 0 : 1);
        });
      }
      out('running; Ctrl-C stops everything');
    });
    return await done;
  },
};
