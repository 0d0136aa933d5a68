// npm run bench — runs the benchmark modules in turn on one local stack. A run without --only rewrites
// BENCHMARKS.md whole (a header: command, date, machine, versions, load; then every module's section in
// the order of BENCHMARKS); --only NAME[,NAME] replaces only those sections; --no-write prints only.
//   node dist/test/bench/main.js [--quick] [--only NAME[,NAME]] [--no-write]
// To add a benchmark: a module exporting a Benchmark (see harness.ts), and one line in BENCHMARKS below.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { oneLine } from '../../daemons/lib/errors.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';
import { clusterBench } from './cluster.js';
import { consoleBench } from './console.js';
import { consumerBench } from './consumer.js';
import { etlCostBench } from './etl-cost.js';
import { etlBench } from './etl.js';
import { freshnessBench } from './freshness.js';
import { type Benchmark, type BenchContext, BENCHMARKS_FILE, failedBody, header, host, readSections, wholeFile, writeSection } from './harness.js';
import { producerBench } from './producer.js';
import { reportsBench, sqlglotBench } from './reports.js';

/** The sections of BENCHMARKS.md, in the pipeline's order. */
const BENCHMARKS: Benchmark[] = [producerBench, consumerBench, clusterBench, freshnessBench, etlBench, etlCostBench, reportsBench, sqlglotBench, consoleBench];
/** The order they run in: the ETL ones first, before the local stack is started (they do not use it). */
const RUN_ORDER = ['etl', 'etl-cost', 'producer', 'consumer', 'cluster', 'freshness', 'reports', 'sqlglot', 'console'];

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, only: { type: 'string' }, 'no-write': { type: 'boolean' } } });
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((n) => !BENCHMARKS.some((b) => b.name === n)) ?? [];
  if (unknown.length) {
    process.stderr.write(`bench: unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  const chosen = BENCHMARKS.filter((b) => !only || only.includes(b.name)).sort((a, b) => RUN_ORDER.indexOf(a.name) - RUN_ORDER.indexOf(b.name));
  const started = new Date();
  const loadStart = os.loadavg();
  const say = (line: string) => process.stderr.write(`${line}\n`);
  say(`bench: ${chosen.map((b) => b.name).join(', ')}${values.quick ? ' (quick)' : ''}; load average ${loadStart.map((l) => l.toFixed(1)).join(' ')}`);
  let stack: Promise<TestStack> | undefined;
  const ctx: BenchContext = { quick: values.quick === true, stack: () => (stack ??= startTestStack({ kafkaHeapMb: 512 })), say };
  const bodies = new Map<string, string>();
  const failures = new Map<string, string>();
  try {
    for (const b of chosen) {
      say(`bench: ${b.name}${ctx.quick ? ' (quick)' : ''}`);
      const t0 = Date.now();
      try {
        const body = await b.run(ctx);
        bodies.set(b.name, body);
        process.stdout.write(`## ${b.section}\n\n${body.trim()}\n\n`);
        if (only && !values['no-write']) writeSection(b.section, body, BENCHMARKS_FILE, BENCHMARKS.map((x) => x.section));
        say(`bench: ${b.name} done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      } catch (err) {
        failures.set(b.name, oneLine(err));
        say(`bench: ${b.name} failed after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${oneLine(err)}`);
      }
    }
  } finally {
    if (stack) await (await stack).stop();
  }
  if (!only && !values['no-write']) {
    const earlier = existsSync(BENCHMARKS_FILE) ? readSections(readFileSync(BENCHMARKS_FILE, 'utf8')) : new Map<string, string>();
    const argv = process.argv.slice(2).join(' ');
    const head = header({ command: `node dist/test/bench/main.js${argv ? ` ${argv}` : ''}`, started, ended: new Date(), quick: ctx.quick, loadStart, loadEnd: os.loadavg(), host: host() });
    const sections = BENCHMARKS.map((b) => {
      const failed = failures.get(b.name);
      return { section: b.section, body: failed !== undefined ? failedBody(failed, earlier.get(b.section), started) : (bodies.get(b.name) ?? '') };
    });
    // sections other runs write (the soak's) are kept as they were
    for (const [section, body] of earlier) if (!BENCHMARKS.some((b) => b.section === section)) sections.push({ section, body });
    writeFileSync(BENCHMARKS_FILE, wholeFile(head, sections));
    say(`bench: wrote ${BENCHMARKS_FILE}`);
  }
  say(`bench: finished in ${((Date.now() - started.getTime()) / 60_000).toFixed(1)} min; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}${failures.size ? `; ${failures.size} failed: ${[...failures.keys()].join(', ')}` : ''}`);
  return failures.size ? 1 : 0;
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
