// The saved reports the scheduler runs: sql/reports/*.sql, each opening with a comment header
//   -- name: top_movers
//   -- description: the day's biggest movers per index
//   -- schedule: 0 5 * * *
// (`cron:` is read as `schedule:` too). Only the header is read here; the query runs through
// `kafkalake run report NAME`.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KafkalakeError } from '../lib/errors.js';
import { checkCron } from './times.js';

export interface ReportFile {
  name: string;
  description: string;
  schedule: string;
  file: string;
}

export function readReportHeader(file: string): ReportFile {
  const header: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const t = line.trim();
    if (t === '') continue;
    if (!t.startsWith('--')) break;
    const m = /^--\s*([A-Za-z]+)\s*:\s*(.*)$/.exec(t);
    if (m?.[1] && m[2] !== undefined) header[m[1].toLowerCase()] = m[2].trim();
  }
  const name = header.name ?? path.basename(file, '.sql');
  const schedule = header.schedule ?? header.cron ?? '';
  if (schedule) checkCron(schedule, `${file} header schedule`);
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new KafkalakeError(`report name "${name}" may hold only letters, digits, _ and -`, { where: `${file} header name` });
  return { name, description: header.description ?? '', schedule, file };
}

export function listReportFiles(dir: string): ReportFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.sql'));
  } catch {
    return [];
  }
  return names.sort().map((n) => readReportHeader(path.join(dir, n)));
}
