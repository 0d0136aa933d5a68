// Athena (Trino) SQL → DuckDB SQL by sqlglot, in one long-lived Python worker per engine
// (daemons/local/sql/transpile.py), not a process per query: started on the first query, answering
// one JSON line per request, restarted when it dies or stops answering, stopped by close().
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { KafkalakeError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { PROJECT_ROOT } from '../../lib/paths.js';
import { QueryError } from './errors.js';

export const TRANSPILE_SCRIPT = path.join(PROJECT_ROOT, 'daemons', 'local', 'sql', 'transpile.py');

interface Answer {
  id?: number;
  ok?: boolean;
  sql?: string;
  kind?: string;
  line?: number | null;
  column?: number | null;
  message?: string;
  ready?: boolean;
}

export interface Transpiler {
  /**
   * The DuckDB text of one Athena query; a QueryError in Athena's shape when Athena would refuse it.
   * `schema` (table → column → Glue type, the catalog's) types the columns where Trino's answer
   * depends on a type (a DATE plus days stays a DATE, cardinality of a map).
   */
  transpile(sql: string, where: string, schema?: SqlSchema): Promise<string>;
  close(): void;
  /** the worker's pid, while one runs */
  pid(): number | undefined;
}

/** table name → column name → Glue (Hive) type, as the catalog holds them */
export type SqlSchema = Record<string, Record<string, string>>;

export interface TranspilerOptions {
  /** the venv whose python has sqlglot (local.venvDir) */
  venvDir: string;
  log: Logger;
  /** a worker that has not answered after this long is killed (and the next query starts another) */
  timeoutMs?: number;
  /** where a release bundle's python/ is (the project root) */
  root?: string;
}

/**
 * The python that runs the worker: set-up's venv (local.venvDir), or on a host the release bundle's
 * python/sqlglot package run by the system's python3 (ansible/roles/kafkalake/files/build-bundle.sh).
 */
export function transpilerPython(venvDir: string, root = PROJECT_ROOT): { python: string; env: Record<string, string> } {
  const venv = path.join(venvDir, 'bin', 'python');
  const bundled = path.join(root, 'python');
  if (!existsSync(venv) && existsSync(path.join(bundled, 'sqlglot'))) return { python: 'python3', env: { PYTHONPATH: bundled } };
  return { python: venv, env: {} };
}

export function createTranspiler(opts: TranspilerOptions): Transpiler {
  const { python, env } = transpilerPython(opts.venvDir, opts.root);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let worker: { proc: ChildProcessWithoutNullStreams; waiting: Map<number, (a: Answer) => void>; ready: Promise<void> } | undefined;
  let nextId = 1;

  const start = () => {
    if (python !== 'python3' && !existsSync(python)) {
      throw new KafkalakeError(`the SQL transpiler's Python is missing (${python}): run \`npm run setup\` (it creates the venv with sqlglot)`, { where: 'local SQL engine' });
    }
    const proc = spawn(python, [TRANSPILE_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env, PYTHONUNBUFFERED: '1' } });
    const waiting = new Map<number, (a: Answer) => void>();
    let stderr = '';
    let ready!: () => void;
    let failed!: (e: Error) => void;
    const w = { proc, waiting, ready: new Promise<void>((res, rej) => ((ready = res), (failed = rej))) };
    w.ready.catch(() => undefined);
    proc.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    createInterface({ input: proc.stdout }).on('line', (line) => {
      let a: Answer;
      try {
        a = JSON.parse(line) as Answer;
      } catch {
        return;
      }
      if (a.ready) return ready();
      if (a.id !== undefined) waiting.get(a.id)?.(a);
      if (a.id !== undefined) waiting.delete(a.id);
    });
    const gone = (why: string) => {
      if (worker === w) worker = undefined;
      const last = stderr.trim().split('\n').pop() ?? '';
      const hint = /No module named 'sqlglot'/.test(stderr) ? ` (${python} has no sqlglot: run \`npm run setup\`)` : '';
      const a: Answer = { ok: false, kind: 'QUERY_FAILED', message: `the SQL transpiler stopped (${why})${last ? `: ${last}` : ''}${hint}` };
      failed(new KafkalakeError(a.message!, { where: 'local SQL engine' }));
      for (const resolve of waiting.values()) resolve(a);
      waiting.clear();
    };
    proc.on('error', (e) => gone(e.message));
    proc.on('exit', (code, signal) => gone(signal ? `signal ${signal}` : `exit ${code}`));
    proc.stdin.on('error', () => undefined); // a dead worker's pipe: its exit answers the waiting queries
    worker = w;
    return w;
  };

  return {
    async transpile(sql, where, schema) {
      const w = worker ?? start();
      await w.ready;
      const id = nextId++;
      const a = await new Promise<Answer>((resolve) => {
        const timer = setTimeout(() => {
          w.waiting.delete(id);
          opts.log.warn('the SQL transpiler did not answer: restarting it', { timeoutMs });
          w.proc.kill('SIGKILL');
          resolve({ ok: false, kind: 'QUERY_FAILED', message: `the SQL transpiler did not answer within ${timeoutMs} ms` });
        }, timeoutMs);
        w.waiting.set(id, (ans) => {
          clearTimeout(timer);
          resolve(ans);
        });
        w.proc.stdin.write(`${JSON.stringify({ id, sql, schema })}\n`);
      });
      if (a.ok && typeof a.sql === 'string') return a.sql;
      const at = a.line && a.column ? `line ${a.line}:${a.column}: ` : '';
      throw new QueryError(`${a.kind ?? 'QUERY_FAILED'}: ${at}${a.message ?? 'the query could not be translated'}`, where);
    },
    pid: () => worker?.proc.pid,
    close() {
      const w = worker;
      worker = undefined;
      if (w) {
        w.proc.stdin.end();
        w.proc.kill('SIGTERM');
      }
    },
  };
}
