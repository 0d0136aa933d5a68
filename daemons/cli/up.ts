// kafkalake up — local mode: the stack and every daemon, each a child process run exactly as systemd
// would run it (`node --max-old-space-size=N kafkalake <daemon>`), their JSON logs passed through with
// the daemon's name.
// Ctrl-C stops the daemons (SIGTERM, graceful), then the stack.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { createAwsClients } from '../lib/aws.js';
import { oneLine } from '../lib/errors.js';
import { startStack } from '../local/stack.js';
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
    const out = (line: string) => process.stdout.write(`${line}\n`);
    const s = ctx.config.local;
    out(`starting the local stack (state in ${s.stateDir})`);
    const stack = await startStack(s, { timeoutMs: s.startTimeoutMs, log: ctx.log });
    out(`  zookeeper  ${s.kraft ? '(KRaft: none)' : `${s.host}:${s.zookeeperPort}`}`);
    out(`  kafka      ${stack.brokers.join(',')}`);
    out(`  aws twin   ${stack.awsEndpoint}`);
    const aws = createAwsClients(ctx.config);
    try {
      await aws.s3.send(new HeadBucketCommand({ Bucket: ctx.config.aws.bucket })).catch(() => aws.s3.send(new CreateBucketCommand({ Bucket: ctx.config.aws.bucket })));
    } finally {
      aws.destroy();
    }
    out(`  bucket     s3://${ctx.config.aws.bucket}`);

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
      for (const name of UP_DAEMONS) {
        const child = spawn(process.execPath, daemonArgs(name, values.config ? ['--config', values.config] : []), { stdio: ['ignore', 'pipe', 'pipe'] });
        children.set(name, child);
        out(`  ${name.padEnd(10)} pid ${child.pid ?? '?'}`);
        for (const stream of [child.stdout, child.stderr]) {
          if (stream) createInterface({ input: stream }).on('line', (line) => out(`[${name}] ${line}`));
        }
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
