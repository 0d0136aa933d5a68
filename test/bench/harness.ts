// What every benchmark module shares: the context main.ts hands it (quick mode, one shared local stack,
// a progress printer), statistics, the machine's description, and the writers of BENCHMARKS.md (a whole
// file after a full run; one section after --only).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { procTable, treeRssKb } from '../helpers/proc.js';
import type { TestStack } from '../helpers/stack.js';

export { procTable, treeRssKb, vmRss } from '../helpers/proc.js';

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

/** `12,345 (11,000–13,002)`: the median of the runs and their range; one run: the figure alone. */
export function medRange(xs: readonly number[], digits = 0, show: (n: number, d: number) => string = fmt): string {
  if (xs.length === 0) return 'n/a';
  if (xs.length === 1) return show(xs[0] as number, digits);
  return `${show(median(xs), digits)} (${show(Math.min(...xs), digits)}–${show(Math.max(...xs), digits)})`;
}

/** Quantiles of (value, weight) pairs: the smallest value whose cumulative weight reaches p of the total. */
export function weightedQuantiles(pairs: ReadonlyArray<readonly [value: number, weight: number]>, ps: readonly number[]): number[] {
  const s = [...pairs].filter(([, w]) => w > 0).sort((a, b) => a[0] - b[0]);
  const total = s.reduce((a, [, w]) => a + w, 0);
  return ps.map((p) => {
    if (total === 0) return NaN;
    const want = Math.max(1, Math.ceil(p * total));
    let acc = 0;
    for (const [v, w] of s) {
      acc += w;
      if (acc >= want) return v;
    }
    return (s[s.length - 1] as readonly [number, number])[0];
  });
}

/** Peak RSS of each watched process tree (a daemon and its children), sampled every `everyMs`. */
export function rssSampler(everyMs = 250) {
  const pids = new Map<string, number>();
  const peak = new Map<string, number>();
  const timer = setInterval(() => {
    const table = procTable();
    for (const [name, pid] of pids) peak.set(name, Math.max(peak.get(name) ?? 0, treeRssKb(pid, table) * 1024));
  }, everyMs);
  return {
    watch(name: string, pid: number | undefined) {
      if (pid) pids.set(name, pid);
    },
    peak: (name: string) => peak.get(name) ?? 0,
    stop: () => clearInterval(timer),
  };
}

/** `2 × AMD EPYC 7B13, 23.6 GiB RAM, Linux 6.1, Node v24.22.3; load average 3.1 at start` */
export function machine(): string {
  const cpus = os.cpus();
  const gib = os.totalmem() / 2 ** 30;
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${gib.toFixed(1)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}; load average ${(os.loadavg()[0] ?? 0).toFixed(1)} at start`;
}

export interface Host {
  cpu: string;
  cpus: number;
  ramGiB: number;
  kernel: string;
  node: string;
  java: string;
  kafka: string;
  kcat: string;
}

/** What the header of BENCHMARKS.md says about the machine and the tools' versions. */
export function host(libDir = path.join(PROJECT_ROOT, '.kafkalake/lib')): Host {
  const cpus = os.cpus();
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const kcat = spawnSync('kcat', ['-V'], { encoding: 'utf8' });
  let kafka = 'unknown (no kafka-clients jar)';
  try {
    const jar = readdirSync(libDir).find((f) => /^kafka-clients-.+\.jar$/.test(f));
    if (jar) kafka = jar.replace(/^kafka-clients-(.+)\.jar$/, '$1');
  } catch {
    kafka = `unknown (${libDir} not readable)`;
  }
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cpus: cpus.length,
    ramGiB: os.totalmem() / 2 ** 30,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    java: (java.stderr || java.stdout || '').split('\n')[0]?.trim() || 'not found',
    kafka,
    kcat: /Version (\S+)/.exec(kcat.stdout ?? '')?.[1] ?? 'not found',
  };
}

export interface RunInfo {
  command: string;
  started: Date;
  ended: Date;
  quick: boolean;
  loadStart: readonly number[];
  loadEnd: readonly number[];
  host: Host;
}

const INTRO =
  'Written by `npm run bench` (`node dist/test/bench/main.js [--quick] [--only NAME[,NAME]] [--no-write]`): a run without `--only` rewrites this whole file; `--only` replaces only the named sections. Each section is written by its module in `test/bench/`.';

/** The top of BENCHMARKS.md after a full run: the command, when, and the machine. */
export function header(r: RunInfo): string {
  const load = (l: readonly number[]) => l.map((x) => x.toFixed(1)).join(' / ');
  const minutes = (r.ended.getTime() - r.started.getTime()) / 60_000;
  return [
    '# Benchmarks',
    '',
    INTRO,
    '',
    `Last full run: \`${r.command}\`${r.quick ? ' (**quick mode**: small sizes, figures not comparable)' : ''}, ${r.started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${fmt(minutes, 1)} min.`,
    '',
    '| machine | |',
    '|---|---|',
    `| CPU | ${r.host.cpus} × ${r.host.cpu} |`,
    `| RAM | ${fmt(r.host.ramGiB, 1)} GiB |`,
    `| kernel | ${r.host.kernel} |`,
    `| Node | ${r.host.node} |`,
    `| Java | ${r.host.java} |`,
    `| Kafka | ${r.host.kafka} (local stack: ZooKeeper and one broker, 512 MB heap) |`,
    `| kcat | ${r.host.kcat} |`,
    `| load average (1 / 5 / 15 min) | ${load(r.loadStart)} at start, ${load(r.loadEnd)} at end |`,
  ].join('\n');
}

/** The `## ` sections of a BENCHMARKS.md text: heading → body (trimmed). */
export function readSections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  let name: string | undefined;
  let body: string[] = [];
  const close = () => {
    if (name !== undefined) out.set(name, body.join('\n').trim());
  };
  for (const l of lines) {
    if (l.startsWith('## ')) {
      close();
      name = l.slice(3).trim();
      body = [];
    } else if (name !== undefined) body.push(l);
  }
  close();
  return out;
}

/** The whole file: the header, then each section in the order given. */
export function wholeFile(head: string, sections: ReadonlyArray<{ section: string; body: string }>): string {
  return `${[head.trim(), ...sections.map((s) => `## ${s.section}\n\n${s.body.trim()}`)].join('\n\n')}\n`;
}

/** A section whose module failed in a full run: the failure, then the earlier figures if there were any. */
export function failedBody(error: string, earlier: string | undefined, when: Date): string {
  // an earlier failure keeps only the figures it carried
  const EARLIER = 'The figures below are from an earlier run:\n\n';
  if (earlier?.startsWith('**Not measured in the run of')) earlier = earlier.includes(EARLIER) ? earlier.slice(earlier.indexOf(EARLIER) + EARLIER.length) : undefined;
  const head = `**Not measured in the run of ${when.toISOString().slice(0, 16).replace('T', ' ')} UTC**: ${error}`;
  return earlier ? `${head}\n\n${EARLIER}${earlier}` : head;
}

/** Replace `## section` in BENCHMARKS.md, leaving every other section as it is; a new section goes before
 * the first existing one that follows it in `order` (the file's section order), else at the end. */
export function writeSection(section: string, body: string, file = BENCHMARKS_FILE, order: readonly string[] = []): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmarks\n\n${INTRO}\n`;
  const heading = `## ${section}`;
  const block = `${heading}\n\n${body.trim()}\n`;
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  let out: string;
  if (start < 0) {
    const later = new Set(order.slice(order.indexOf(section) + 1).map((s) => `## ${s}`));
    const next = order.includes(section) ? lines.findIndex((l) => later.has(l.trim())) : -1;
    out = next < 0 ? `${text.trimEnd()}\n\n${block}` : `${lines.slice(0, next).join('\n').trimEnd()}\n\n${block}\n${lines.slice(next).join('\n').trim()}\n`;
  } else {
    let end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
    if (end < 0) end = lines.length;
    const before = lines.slice(0, start).join('\n').trimEnd();
    const after = lines.slice(end).join('\n').trim();
    out = `${before}\n\n${block}${after ? `\n${after}\n` : ''}`;
  }
  writeFileSync(file, out.endsWith('\n') ? out : `${out}\n`);
}
