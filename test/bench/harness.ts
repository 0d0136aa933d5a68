// What every benchmark module shares: the context main.ts hands it (quick mode, one shared local stack,
// a progress printer), statistics, the machine's description, and the writer of BENCHMARKS.md sections.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import type { TestStack } from '../helpers/stack.js';

export interface BenchContext {
  /** small sizes, for CI and a quick look */
  quick: boolean;
  /** the local stack on free ports, started on first call, shared by every module of the run */
  stack(): Promise<TestStack>;
  /** a progress line on stderr */
  say(line: string): void;
}

export interface Benchmark {
  /** for --only */
  name: string;
  /** the `## ` heading of BENCHMARKS.md this module owns */
  section: string;
  /** measure; return the section's markdown body (without the heading) */
  run(ctx: BenchContext): Promise<string>;
}

export const BENCHMARKS_FILE = path.join(PROJECT_ROOT, 'BENCHMARKS.md');

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** `2 × AMD EPYC 7B13, 23.6 GiB RAM, Linux 6.1, Node v20.20.2; load average 3.1 at start` */
export function machine(): string {
  const cpus = os.cpus();
  const gib = os.totalmem() / 2 ** 30;
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${gib.toFixed(1)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}; load average ${(os.loadavg()[0] ?? 0).toFixed(1)} at start`;
}

/** Replace (or append) `## section` in BENCHMARKS.md, leaving every other section as it is. */
export function writeSection(section: string, body: string, file = BENCHMARKS_FILE): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nWritten by `npm run bench` (`node dist/test/bench/main.js [--quick] [--only NAME]`); each section by its module in `test/bench/`.\n';
  const heading = `## ${section}`;
  const block = `${heading}\n\n${body.trim()}\n`;
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  let out: string;
  if (start < 0) {
    out = `${text.trimEnd()}\n\n${block}`;
  } else {
    let end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
    if (end < 0) end = lines.length;
    const before = lines.slice(0, start).join('\n').trimEnd();
    const after = lines.slice(end).join('\n').trim();
    out = `${before}\n\n${block}${after ? `\n${after}\n` : ''}`;
  }
  writeFileSync(file, out.endsWith('\n') ? out : `${out}\n`);
}
