// `npm run bench -- --quick` in CI: the harness runs the chosen modules at small sizes on a local stack
// and prints each section with its tables and figures. Nothing is asserted about speed; that every
// stage was measured (numbers, not "never"), that each anchor ran and that the run exits 0 is.
import { spawn } from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';

const MAIN = path.join(PROJECT_ROOT, 'dist/test/bench/main.js');
/** the modules of the quick run (etl-cost's quick size is DuckDB only, seconds; the others' take minutes
 * each: the lead runs them) */
const ONLY = ['etl-cost', 'consumer', 'freshness'];
const NUMBER = String.raw`[\d,]+(?:\.\d+)?`;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 }));
  });
}

/** The body of `## heading` in the printed markdown. */
function section(text: string, heading: string): string {
  const start = text.indexOf(`## ${heading}\n`);
  if (start < 0) return '';
  const end = text.indexOf('\n## ', start + 3);
  return text.slice(start, end < 0 ? undefined : end);
}

/** The table row whose first or second cell starts with `label`, as cells. */
function row(body: string, label: string): string[] | undefined {
  const line = body.split('\n').find((l) => l.startsWith('|') && l.split('|').slice(1, 3).some((c) => c.trim().startsWith(label)));
  return line?.split('|').slice(1, -1).map((c) => c.trim());
}

test('bench --quick runs and prints every section with its tables and figures', async (t) => {
  t.timeout(8 * 60_000);
  const r = await run(['--quick', '--no-write', '--only', ONLY.join(',')]);
  t.log(`quick bench (${ONLY.join(', ')}) took ${(r.ms / 1000).toFixed(0)} s`);
  t.is(r.code, 0, r.stderr.split('\n').slice(-15).join('\n'));

  const consumer = section(r.stdout, 'Consumer');
  t.true(consumer.includes('quick mode'), consumer);
  for (const name of ['kafkalake consume --once', 'ConsumerPerformance (anchor)', 'kcat (anchor)']) {
    const cells = row(consumer, name);
    t.truthy(cells, `the consumer table has a ${name} row:\n${consumer}`);
    // records/s as median (min–max) of 3 runs, MB/s, seconds, a ratio to each anchor
    t.regex(cells?.[1] ?? '', new RegExp(`^${NUMBER} \\(${NUMBER}–${NUMBER}\\)$`), name);
    for (const c of (cells ?? []).slice(2)) t.regex(c, new RegExp(`^(${NUMBER}|1 \\(anchor\\))$`), `${name}: ${c}`);
  }
  t.regex(consumer, new RegExp(`Staging freshness.*p50 \\*\\*${NUMBER} ms\\*\\*, p99 \\*\\*${NUMBER} ms\\*\\*`));

  const fresh = section(r.stdout, 'End-to-end freshness');
  t.true(fresh.includes('quick mode'), fresh);
  for (const stage of ['readable in Kafka', 'staged', 'in the lake', 'in the freshness report']) {
    const cells = row(fresh, stage);
    t.truthy(cells, `the freshness table has a "${stage}" row:\n${fresh}`);
    // p50, p99 and max in ms: each stage was reached by every record
    for (const c of (cells ?? []).slice(2, 5)) t.regex(c, new RegExp(`^${NUMBER}$`), `${stage}: ${c}`);
  }
  t.regex(row(fresh, '1,000/s')?.[0] ?? '', new RegExp(`reached ${NUMBER}`));
  const rss = fresh.split('\n').find((l) => l.startsWith('| 1,000/s |'));
  t.truthy(rss, 'a peak RSS row for 1,000/s');
  t.regex(rss ?? '', new RegExp(`^\\| 1,000/s \\| ${NUMBER} \\| ${NUMBER} \\| ${NUMBER} \\| .* \\| yes, every run \\|$`));

  const cost = section(r.stdout, 'ETL cost');
  t.true(cost.includes('quick mode'), cost);
  const duck = row(cost, 'local ETL (DuckDB executor');
  t.truthy(duck, `the ETL cost table has a DuckDB row:\n${cost}`);
  // seconds into an empty lake and into the full partition, their ratio, the files after each, peak RSS
  t.regex(duck?.[1] ?? '', new RegExp(`^${NUMBER} s$`), 'into an empty lake');
  t.regex(duck?.[2] ?? '', new RegExp(`^${NUMBER} s$`), 'into the full partition');
  t.regex(duck?.[3] ?? '', new RegExp(`^\\*\\*${NUMBER}×\\*\\*$`), 'ratio');
  for (const c of [duck?.[4], duck?.[5]]) t.regex(c ?? '', new RegExp(`^\\d+ \\(${NUMBER}( each|–${NUMBER})?\\)$`), 'files (rows per file)');
  t.regex(duck?.[6] ?? '', new RegExp(`^${NUMBER} / ${NUMBER} MB$`), 'peak RSS');
});
