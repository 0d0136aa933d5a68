// npm run bench — runs the benchmark modules in turn on one local stack and writes each one's section of
// BENCHMARKS.md.   node dist/test/bench/main.js [--quick] [--only NAME[,NAME]] [--no-write]
// To add a benchmark: a module exporting a Benchmark (see harness.ts), and one line in BENCHMARKS below.
import { parseArgs } from 'node:util';
import { oneLine } from '../../daemons/lib/errors.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { consumerBench } from './consumer.js';
import { etlBench } from './etl.js';
import { type Benchmark, type BenchContext, writeSection } from './harness.js';
import { producerBench } from './producer.js';
import { reportsBench } from './reports.js';

const BENCHMARKS: Benchmark[] = [
  etlBench,
  producerBench,
  consumerBench,
  reportsBench,
];

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, 'no-write': { type: 'boolean' } } });
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((n) => !BENCHMARKS.some((b) => b.name === n)) ?? [];
  if (unknown.length) {
    process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  const chosen = BENCHMARKS.filter((b) => !only || only.includes(b.name));
  let stack: Promise<TestStack> | undefined;
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const ctx: BenchContext = { quick: values.quick === true, stack: () => (stack ??= startTestStack({ kafkaHeapMb: 512 })), say };
  let failed = 0;
  try {
    for (const b of chosen) {
      say(`bench: ${b.name}${ctx.quick ? ' (quick)' : ''}`);
      try {
        const body = await b.run(ctx);
        process.stdout.write(`## ${b.section}\n\n${body.trim()}\n\n`);
        if (!values['no-write']) writeSection(b.section, body);
      } catch (err) {
        failed++;
        say(`bench: ${b.name} failed: ${oneLine(err)}`);
      }
    }
  } finally {
    if (stack) await (await stack).stop();
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${oneLine(err)}\n`);
    process.exitCode = 1;
  },
);
