// The pieces of the bench harness that need no stack: statistics, the whole-file writer of a full run
// (header, sections in order, a failed module keeping its earlier figures), and the freshness module's
// timestamp reading.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { freshnessMarkdown, freshnessPlan, type FreshnessRun, parseTimestamp, YIELD_ANCHOR } from './freshness.js';
import { failedBody, header, host, medRange, readSections, weightedQuantiles, wholeFile, writeSection } from './harness.js';

test('weighted quantiles: the smallest value whose cumulative weight reaches p', (t) => {
  const pairs: Array<[number, number]> = [
    [30, 1],
    [10, 98],
    [20, 1],
  ];
  t.deepEqual(weightedQuantiles(pairs, [0.5, 0.98, 0.99, 1]), [10, 10, 20, 30]);
  t.deepEqual(weightedQuantiles([[5, 1], [Infinity, 1]], [0.5, 1]), [5, Infinity]);
  t.true(Number.isNaN(weightedQuantiles([], [0.5])[0]));
});

test('medRange: median and range of several runs, the figure alone for one', (t) => {
  t.is(medRange([3, 1, 2]), '2 (1–3)');
  t.is(medRange([1500.26], 1), '1,500.3');
  t.is(medRange([]), 'n/a');
});

test('a full run writes the header and every section in order; a failed module keeps its earlier figures once', (t) => {
  const when = new Date('2026-11-22T03:00:00Z');
  const head = header({
    command: 'node dist/test/bench/main.js',
    started: when,
    ended: new Date(when.getTime() + 90 * 60_000),
    quick: false,
    loadStart: [0.5, 1, 1.5],
    loadEnd: [2, 2.5, 3],
    host: { cpu: 'Some CPU', cpus: 2, ramGiB: 23.6, kernel: 'Linux 6.1', node: 'v20.0.0', java: 'openjdk version "17"', kafka: '3.9.2', kcat: '1.7.1' },
  });
  t.regex(head, /^# Benchmarks\n/);
  for (const s of ['`node dist/test/bench/main.js`', '2026-11-22 03:00 UTC', '90.0 min', '2 × Some CPU', '23.6 GiB', 'Linux 6.1', 'v20.0.0', 'openjdk version "17"', '| Kafka | 3.9.2', '0.5 / 1.0 / 1.5 at start, 2.0 / 2.5 / 3.0 at end'])
    t.true(head.includes(s), s);
  const earlier = readSections(`# Benchmarks\n\nintro\n\n## B\n\nold b\n\n### sub\n\nmore b\n\n## A\n\nold a\n`);
  t.deepEqual([...earlier.keys()], ['B', 'A']);
  t.is(earlier.get('B'), 'old b\n\n### sub\n\nmore b');
  const failed = failedBody('it broke', earlier.get('B'), when);
  const text = wholeFile(head, [
    { section: 'A', body: 'new a\n' },
    { section: 'B', body: failed },
  ]);
  const again = readSections(text);
  t.deepEqual([...again.keys()], ['A', 'B']);
  t.is(again.get('A'), 'new a');
  t.regex(again.get('B') ?? '', /^\*\*Not measured in the run of 2026-11-22 03:00 UTC\*\*: it broke\n\nThe figures below are from an earlier run:\n\nold b\n\n### sub\n\nmore b$/);
  // failing again keeps the same earlier figures, not a failure inside a failure
  const twice = failedBody('broke again', again.get('B'), when);
  t.is(twice.match(/Not measured/g)?.length, 1);
  t.true(twice.endsWith('old b\n\n### sub\n\nmore b'));
  t.is(failedBody('no luck', undefined, when), '**Not measured in the run of 2026-11-22 03:00 UTC**: no luck');
});

test('--only replaces one section in place and leaves the others', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-bench-test-'));
  try {
    const file = path.join(dir, 'B.md');
    writeSection('A', 'a1', file);
    writeSection('B', 'b1', file);
    writeSection('A', 'a2', file);
    t.deepEqual([...readSections(readFileSync(file, 'utf8'))], [
      ['A', 'a2'],
      ['B', 'b1'],
    ]);
    // a new section takes its place in the file's order
    const order = ['A', 'C', 'B', 'D'];
    writeSection('C', 'c1', file, order);
    writeSection('D', 'd1', file, order);
    t.deepEqual([...readSections(readFileSync(file, 'utf8')).keys()], order);
    t.regex(readFileSync(file, 'utf8'), /^# Benchmarks\n\nWritten by/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the machine description names the tools this machine has', (t) => {
  const h = host();
  t.true(h.cpus >= 1);
  t.regex(h.kernel, /\S+ \S+/);
  t.is(h.node, process.version);
  t.regex(h.kafka, /^\d+\.\d+\.\d+$/, 'the kafka-clients jar of .kafkalake/lib gives the Kafka version');
  t.regex(h.java, /version/);
});

test('report timestamps as DuckDB and Athena print them', (t) => {
  const ms = Date.parse('2026-11-22T02:30:00.123Z');
  t.is(parseTimestamp('2026-11-22 02:30:00.123+00'), ms);
  t.is(parseTimestamp('2026-11-22 02:30:00.123 UTC'), ms);
  t.is(parseTimestamp('2026-11-22 02:30:00.123456'), ms);
  t.is(parseTimestamp('2026-11-22T02:30:00.123Z'), ms);
  t.is(parseTimestamp('2026-11-22 04:30:00.123+02:00'), ms);
  t.is(parseTimestamp('2026-11-22 02:30:00'), ms - 123);
  t.true(Number.isNaN(parseTimestamp('')));
  t.true(Number.isNaN(parseTimestamp('yesterday')));
});

test('the freshness section says met or missed per target, and why the lake missed when ETL runs outlast the interval', (t) => {
  const plan = freshnessPlan(false, {});
  const q = (p99: number) => ({ p50: p99 / 2, p99, max: p99 + 1, missing: 0 });
  const run = (rate: number, lakeP99: number, etlMs: number[]): FreshnessRun => ({
    rate,
    sent: 60_000,
    reached: rate || 18_000,
    stages: { kafka: q(30), staged: q(1500), lake: q(lakeP99), report: q(lakeP99 + 10_000) },
    rss: { producer: 1e8, consumer: 1e8, scheduler: 2e8 },
    etlMs,
    reports: 4,
    lakeRows: 60_000,
  });
  // targets (issue 18): 10 s at 1,000 and 10,000/s, 15 s unlimited; the ETL every 5 s
  const md = freshnessMarkdown(plan, [run(10_000, 9_000, [1500, 2000]), run(0, 57_000, [9000, 28_600])], 'test machine', false);
  t.regex(md, /send → lake p99 at 10,000\/s: 9,000 ms against ≤ 10,000 ms \(met\)/);
  t.regex(md, /send → lake p99 at max \(unlimited\): 57,000 ms against ≤ 15,000 ms \(missed\)/);
  t.regex(md, /Why missed: at max \(unlimited\) the longest ETL run took 28\.6 s, more than the 5 s between runs/);
  t.notRegex(md, /at 10,000\/s the longest ETL run/);
  // a miss the ETL's duration does not explain gets no made-up reason
  t.notRegex(freshnessMarkdown(plan, [run(0, 57_000, [4000, 4500])], 'test machine', false), /Why missed/);
  // within the interval, runs longer than the target leaves after the wait explain a p99 they (with the wait) cover
  // the producer runs at its unit's priority (nice 10), and the section says so; at the pipeline's priority
  // (a comparison) an unlimited producer out-sends the cores, which is then part of the reason
  t.is(plan.producerNice, 10);
  t.regex(md, /at nice 10, as its unit runs it/);
  t.notRegex(md, /the producer offers more than the 2 cores/);
  const level = freshnessPlan(false, { KAFKALAKE_BENCH_FRESHNESS_PRODUCER_NICE: '0' });
  t.is(level.producerNice, 0);
  const levelMd = freshnessMarkdown(level, [run(0, 57_000, [9000, 28_600])], 'test machine', false);
  t.regex(levelMd, /at the same priority as the pipeline/);
  t.regex(levelMd, /unlimited, the producer offers more than the 2 cores stage and merge/);
  // the yielding run points to the kept comparison; the comparison itself does not point to itself
  t.true(md.includes(`the section "${YIELD_ANCHOR}" below`));
  t.false(levelMd.includes(YIELD_ANCHOR));
  const slowRuns = freshnessMarkdown(plan, [run(10_000, 10_600, [2000, 4_100])], 'test machine', false);
  t.regex(slowRuns, /send → lake p99 at 10,000\/s: 10,600 ms against ≤ 10,000 ms \(missed\)/);
  t.regex(slowRuns, /Why missed: at 10,000\/s a record staged just after a run .* 0 of 2 runs took longer \(the longest 4\.1 s\)/);
});
