// `kafkalake produce` and `kafkalake producer` as child processes against the real local stack: bad
// inputs end in one line and a non-zero exit within a bounded time; SIGTERM during a fast replay stops
// within the timeout with exit 0, and every record reported as sent is in the topic.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import test from 'ava';
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from '../../daemons/local/ports.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';

const CLI = path.join(PROJECT_ROOT, 'dist/daemons/cli/main.js');
const HEADER = 'Index,Date,Open,High,Low,Close,Adj Close,Volume,CloseUSD';

let stack: TestStack;
test.before(async () => {
  stack = await startTestStack();
});
test.after.always(async () => {
  await stack?.stop();
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

interface Started {
  /** SIGTERM (or another signal) now; Run.ms then counts from here */
  kill(signal?: NodeJS.Signals): void;
  done: Promise<Run & { signalledAt?: number }>;
}

function start(args: string[], opts: { killAfter?: (line: string) => boolean; timeoutMs?: number } = {}): Started {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let signalledAt: number | undefined;
  const kill = (signal: NodeJS.Signals = 'SIGTERM') => {
    signalledAt ??= performance.now();
    child.kill(signal);
  };
  const done = new Promise<Run & { signalledAt?: number }>((resolve, reject) => {
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kafkalake ${args.join(' ')} still running after ${opts.timeoutMs ?? 120_000} ms`));
    }, opts.timeoutMs ?? 120_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout += `${line}\n`;
      if (signalledAt === undefined && opts.killAfter?.(line)) kill();
    });
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - (signalledAt ?? started), ...(signalledAt !== undefined ? { signalledAt } : {}) });
    });
  });
  return { kill, done };
}

const run = (args: string[], opts: { killAfter?: (line: string) => boolean; timeoutMs?: number } = {}) => start(args, opts).done;

async function countInTopic(topic: string): Promise<number> {
  const admin = new Kafka({ clientId: 'producer-cli-test', brokers: stack.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  } finally {
    await admin.disconnect();
  }
}

function csvFile(name: string, lines: string[]): string {
  const dir = path.join(stack.dir, 'csv');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const stderrLines = (r: Run) => r.stderr.split('\n').filter((l) => l.trim() !== '');

test.serial('a missing CSV file: one line naming it, exit 1', async (t) => {
  const missing = path.join(stack.dir, 'no-such.csv');
  const r = await run(['produce', '--config', stack.configFile(), '--file', missing]);
  t.is(r.code, 1);
  t.deepEqual(stderrLines(r), [`kafkalake: cannot read CSV ${missing}: no such file (ENOENT)`]);
  t.is(r.stdout, '');
});

test.serial('an unreadable CSV (a directory): one line, exit 1', async (t) => {
  const dir = path.join(stack.dir, 'a-directory.csv');
  mkdirSync(dir, { recursive: true });
  const r = await run(['produce', '--config', stack.configFile(), '--file', dir]);
  t.is(r.code, 1);
  t.deepEqual(stderrLines(r), [`kafkalake: cannot read CSV ${dir}: is a directory (EISDIR)`]);
});

test.serial('a corrupt .gz: one line naming the file, exit 1, nothing counted as sent', async (t) => {
  const file = path.join(stack.dir, 'corrupt.csv.gz');
  writeFileSync(file, Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(64, 7)]));
  const topic = unique('corrupt');
  const r = await run(['produce', '--config', stack.configFile({ kafka: { topic } }), '--file', file]);
  t.is(r.code, 1);
  const lines = stderrLines(r);
  t.is(lines.length, 1, r.stderr);
  t.regex(lines[0] ?? '', new RegExp(`^kafkalake: cannot read CSV ${file}: `));
  t.regex(r.stdout, /^sent 0 records/);
});

test.serial('a row with the wrong number of fields: reported with its line number, skipped, counted failed, the rest sent, exit 1', async (t) => {
  const file = csvFile('bad-row.csv', [
    HEADER,
    'NYA,1965-12-31,528.690002,528.690002,528.690002,528.690002,528.690002,0.0,528.690002',
    'NYA,1966-01-03,527.210022,527.210022,527.210022,527.210022,527.210022,0.0,527.210022',
    'NYA,1966-01-04,527.840027,527.840027,527.840027,527.840027,527.840027,0.0',
    'NYA,1966-01-05,531.119995,531.119995,531.119995,531.119995,531.119995,0.0,531.119995',
    'HSI,1986-12-31,2568.300049,2568.300049,2568.300049,2568.300049,2568.300049,0.0,333.87900637,extra',
    'HSI,1987-01-02,2540.100098,2540.100098,2540.100098,2540.100098,2540.100098,0.0,330.21301274',
  ]);
  const topic = unique('bad-row');
  const r = await run(['produce', '--config', stack.configFile({ kafka: { topic } }), '--file', file]);
  t.is(r.code, 1);
  t.deepEqual(stderrLines(r), [
    `kafkalake: ${file} line 4: expected 9 fields, got 8; row skipped`,
    `kafkalake: ${file} line 6: expected 9 fields, got 10; row skipped`,
    'kafkalake: 2 records failed (2 bad rows)',
  ]);
  t.regex(r.stdout, new RegExp(`^sent 4 records \\(\\d+\\.\\d MB\\) to ${topic} in .*; 2 failed \\(2 bad rows\\)\\n$`));
  t.is(await countInTopic(topic), 4);
});

test.serial('a broker that is down: one clear line within a bounded time, exit 1, never a hang', async (t) => {
  const port = await freePort();
  const config = stack.configFile({ kafka: { brokers: [`127.0.0.1:${port}`], topic: unique('down') } });
  // the same command failing at once (no such file) measures what starting node costs on this machine now
  const baseline = await run(['produce', '--config', config, '--file', path.join(stack.dir, 'none.csv')]);
  t.is(baseline.code, 1);
  const r = await run(['produce', '--config', config, '--source', 'simulate', '--count', '10'], { timeoutMs: 120_000 });
  t.is(r.code, 1);
  const lines = stderrLines(r);
  t.is(lines.length, 1, r.stderr);
  t.regex(lines[0] ?? '', new RegExp(`^kafkalake: cannot reach Kafka at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  // kafkajs' connection retries (kafka.retries = 5, backoff 300 ms doubling, jittered) take ~10 s
  t.true(r.ms - baseline.ms < 30_000, `took ${Math.round(r.ms)} ms, ${Math.round(baseline.ms)} ms to fail at once`);
  t.is(r.stdout, '');
});

for (const client of ['kafkajs', 'librdkafka'] as const) {
  test.serial(`the daemon (${client}), SIGTERM during a fast replay: stops within the timeout, exit 0, every record it reported as sent is in the topic`, async (t) => {
    const topic = unique(`sigterm-${client}`);
    const shutdownTimeoutMs = 20_000;
    const config = stack.configFile({
      shutdownTimeoutMs,
      log: { level: 'info' },
      kafka: { topic },
      producer: { client, source: 'csv', rate: 0, loop: true, statsIntervalMs: 300 },
    });
    // stop it once it has sent something, mid-replay
    const r = await run(['producer', '--config', config], {
      killAfter: (line) => /"message":"progress"/.test(line) && (JSON.parse(line) as { sent: number }).sent > 5000,
    });
    t.truthy(r.signalledAt, 'saw progress lines before stopping it');
    t.is(r.code, 0, r.stdout.slice(-2000));
    t.true(r.ms < shutdownTimeoutMs, `stopped in ${Math.round(r.ms)} ms`);
    const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    t.true(lines.every((l) => l.daemon === 'producer'), 'every line names the daemon');
    const progress = lines.filter((l) => l.message === 'progress');
    t.true(progress.every((l) => typeof l.sent === 'number' && typeof l.failed === 'number' && typeof l.rate === 'number'));
    const stopped = lines.find((l) => l.message === 'producer stopped');
    t.truthy(stopped, 'a final line with the counts');
    const sent = stopped?.sent as number;
    t.true(sent > 5000);
    t.is(stopped?.failed, 0);
    t.is(await countInTopic(topic), sent, 'every record reported as sent is in the topic, and nothing more');
  });
}

async function keysInTopic(topic: string, expected: number): Promise<Map<string, string[]>> {
  const consumer = new Kafka({ clientId: 'producer-cli-test', brokers: stack.brokers, logLevel: logLevel.NOTHING }).consumer({ groupId: unique('keys') });
  const dates = new Map<string, string[]>();
  let seen = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error(`read ${seen} of ${expected} records of ${topic} in 60 s`)), 60_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          const rec = JSON.parse(message.value?.toString() ?? '{}') as { date: string };
          const key = message.key?.toString() ?? '';
          dates.set(key, [...(dates.get(key) ?? []), rec.date]);
          if (++seen === expected) {
            clearTimeout(guard);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return dates;
}

test.serial('kafkalake produce --source simulate --symbols N: each trading day, each of the N symbols once; --symbols 0 is a usage error', async (t) => {
  const topic = unique('symbols');
  const config = stack.configFile({ kafka: { topic } });
  const bad = await run(['produce', '--config', config, '--source', 'simulate', '--count', '10', '--symbols', '0']);
  t.is(bad.code, 2);
  t.deepEqual(stderrLines(bad), ['kafkalake: --symbols must be a whole number ≥ 1, got "0"']);
  const r = await run(['produce', '--config', config, '--source', 'simulate', '--count', '30', '--symbols', '3']);
  t.is(r.code, 0, r.stderr);
  const dates = await keysInTopic(topic, 30);
  t.deepEqual([...dates.keys()].sort(), ['HSI', 'IXIC', 'NYA']);
  for (const [key, ds] of dates) t.deepEqual(ds, [...new Set(ds)].sort(), `${key}: one bar a day, in order`);
  t.deepEqual(dates.get('NYA')?.slice(0, 2), ['2000-01-03', '2000-01-04']);
  t.is(dates.get('NYA')?.length, 10);
});

test.serial('kafkalake produce, SIGTERM during a fast simulate run: summary, exit 0, the summary count is in the topic', async (t) => {
  const topic = unique('sigterm-produce');
  const child = start(['produce', '--config', stack.configFile({ kafka: { topic } }), '--source', 'simulate', '--seed', '7'], { timeoutMs: 90_000 });
  // produce prints nothing on stdout before its summary: stop it once the topic holds records
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    if ((await countInTopic(topic).catch(() => 0)) > 5000) break;
  }
  child.kill('SIGTERM');
  const r = await child.done;
  t.is(r.code, 0, r.stderr);
  t.true(r.ms < 20_000, `stopped in ${Math.round(r.ms)} ms`);
  const m = /^sent ([\d,]+) records .*; 0 failed \(stopped by SIGTERM\)\n$/.exec(r.stdout);
  t.truthy(m, r.stdout);
  const sent = Number((m?.[1] ?? '').replace(/,/g, ''));
  t.true(sent > 5000);
  t.is(await countInTopic(topic), sent);
});
