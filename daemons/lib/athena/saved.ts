// The saved queries: sql/reports/<name>.sql, each opening with a header of "-- key: value" lines
// (name, description, schedule as a cron expression). The name is the file's base name, as the
// Athena named query Ansible saves from it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import cron from 'node-cron';
import { KafkalakeError } from '../errors.js';

export interface SavedQuery {
  name: string;
  description: string;
  schedule: string;
  sql: string;
  file: string;
}

/** The "-- key: value" lines a SQL file opens with (saved queries, table definitions). */
export function sqlHeader(text: string): Record<string, string> {
  const header: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^--\s*([a-z]+):\s*(.*?)\s*$/.exec(line);
    if (m) header[m[1]!] = m[2]!;
    else if (!line.startsWith('--')) break;
  }
  return header;
}

/** Every *.sql file of `dir` in name order, parsed; `what` names them in the error if dir cannot be read. */
export function parseSqlDir<T>(dir: string, what: string, parse: (file: string, text: string) => T): T[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  } catch (err) {
    throw new KafkalakeError(`cannot read the ${what}: ${(err as Error).message}`, { where: dir, cause: err });
  }
  return files.map((f) => parse(path.join(dir, f), readFileSync(path.join(dir, f), 'utf8')));
}

export function parseSavedQuery(file: string, text: string): SavedQuery {
  const header = sqlHeader(text);
  const name = path.basename(file, '.sql');
  const bad = (what: string) => new KafkalakeError(`saved query header: ${what}`, { where: file });
  if (header.name !== name) throw bad(`"-- name: ${name}" expected (the file's base name), got ${header.name ? `"${header.name}"` : 'none'}`);
  if (!header.description) throw bad('"-- description: ..." missing');
  if (!header.schedule || !cron.validate(header.schedule)) throw bad(`"-- schedule: <cron>" missing or not a cron expression: "${header.schedule ?? ''}"`);
  const sql = text.trim().replace(/;\s*$/, '');
  return { name, description: header.description, schedule: header.schedule, sql, file };
}

export function loadSavedQueries(dir: string): SavedQuery[] {
  return parseSqlDir(dir, 'saved queries', parseSavedQuery);
}
