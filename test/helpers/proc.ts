// What a test or a benchmark reads of a process from /proc: its resident memory, and the process tree
// (a daemon and its children: the scheduler's job workers, Spark's JVM).
import { readdirSync, readFileSync } from 'node:fs';

/** Resident set size of a process in bytes (VmRSS of /proc/PID/status); 0 once it is gone. */
export function vmRss(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Every process's parent and RSS (kB), from /proc/PID/stat. */
export function procTable(): { parent: Map<number, number>; rssKb: Map<number, number> } {
  const parent = new Map<number, number>();
  const rssKb = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(fields[1]));
      rssKb.set(Number(d), Number(fields[21]) * 4); // pages of 4 kB
    } catch {
      /* gone meanwhile */
    }
  }
  return { parent, rssKb };
}

/** Sum of RSS over a process and its descendants (the scheduler's job workers, Spark's JVM), in kB. */
export function treeRssKb(root: number, table = procTable()): number {
  let sum = 0;
  for (const [pid, kb] of table.rssKb) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = table.parent.get(p)) {
      if (p === root) {
        sum += kb;
        break;
      }
    }
  }
  return sum;
}

/** The pids of a process's descendants (children, grandchildren, …) alive now. */
export function descendants(root: number, table = procTable()): number[] {
  const out: number[] = [];
  for (const pid of table.parent.keys()) {
    for (let p = table.parent.get(pid); p !== undefined && p > 1; p = table.parent.get(p)) {
      if (p === root) {
        out.push(pid);
        break;
      }
    }
  }
  return out;
}

/** Whether a pid is a live process (a zombie, dead but not yet reaped, counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The nice of each thread of a process (/proc/PID/task/TID/stat, field 19); empty once it is gone. */
export function threadNices(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      out.push(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return out;
}
