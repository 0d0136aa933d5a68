// The broker goes away while `kafkalake produce` is sending, with each client (kafkajs and librdkafka)
// running side by side against the same stack: each ends within a bounded time with exit 1, its summary
// on stdout (failures counted, never "0 failed") and one line on stderr saying what failed and where —
// never a hang, never a stack trace. This file has its own stack because it stops it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';

const CLI = path.join(PROJECT_ROOT, 'dist/daemons/cli/main.js');
let stack: TestStack | undefined;
test.before(async () => {
  stack = await startTestStack();
});
test.after.always(async () => {
  await stack?.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** ms from the broker's stop to the exit */
  msAfterStop: number;
}

test('the broker stops mid-send: both clients exit 1 within a bounded time, failures counted, one line', async (t) => {
  const s = stack as TestStack;
  let stoppedAt = 0;
  const clients = ['kafkajs', 'librdkafka'] as const;
  const runs = clients.map((client) => {
    const config = s.configFile({
      kafka: { topic: unique(`loss-${client}`), retries: 3, requestTimeoutMs: 5000 },
      producer: { client, deliveryTimeoutMs: 10_000 },
    });
    const child = spawn(process.execPath, [CLI, 'produce', '--config', config, '--source', 'simulate', '--rate', '2000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return {
      client,
      child,
      done: new Promise<Run>((resolve) => {
        const guard = setTimeout(() => child.kill('SIGKILL'), 180_000);
        child.on('close', (code) => {
          clearTimeout(guard);
          resolve({ code, stdout, stderr, msAfterStop: stoppedAt ? performance.now() - stoppedAt : -1 });
        });
      }),
    };
  });
  // let both send for a while (they print nothing before the summary): ~10 s at 2,000 records/s
  await new Promise((r) => setTimeout(r, 10_000));
  t.true(runs.every((r) => r.child.exitCode === null), 'both still producing before the broker stops');
  stoppedAt = performance.now();
  await s.stop();
  stack = undefined;
  for (const { client, done } of runs) {
    const r = await done;
    t.is(r.code, 1, `${client}: ${r.stdout} ${r.stderr}`);
    // deliveryTimeoutMs 10 s (librdkafka) / 3 retries with backoff (kafkajs), plus stopping: well under a minute
    t.true(r.msAfterStop > 0 && r.msAfterStop < 60_000, `${client} ended ${Math.round(r.msAfterStop)} ms after the broker stopped`);
    const m = /^sent ([\d,]+) records .*; ([\d,]+) failed/m.exec(r.stdout);
    t.truthy(m, `${client} summary: ${r.stdout}`);
    t.true(Number((m?.[1] ?? '0').replace(/,/g, '')) > 1000, `${client} sent before the stop: ${r.stdout}`);
    t.true(Number((m?.[2] ?? '0').replace(/,/g, '')) > 0, `${client} counted failures: ${r.stdout}`);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    t.is(lines.length, 1, `${client} stderr: ${r.stderr}`);
    t.regex(lines[0] ?? '', /^kafkalake: .*(topic|kafka)/i, client);
    t.notRegex(r.stderr, /\n\s+at /, `${client}: no stack trace`);
  }
});
