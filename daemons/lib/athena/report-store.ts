// The saved reports' results as people read them: reports/<name>/<YYYY-MM-DD>.csv in the bucket (written
// by reports.ts in either mode), listed and read back through the S3 client, so `kafkalake reports`
// needs no S3 tool and no AWS console.
import { parse } from 'csv-parse/sync';
import type { Bucket } from '../catalog/objects.js';
import { KafkalakeError } from '../errors.js';

const DATED = /\/(\d{4}-\d{2}-\d{2})\.csv$/;

export interface ReportSummary {
  name: string;
  /** every date kept, oldest first */
  dates: string[];
  latest?: { date: string; rows: number; location: string; bytes: number };
}

export interface ReportFile {
  name: string;
  date: string;
  location: string;
  columns: string[];
  rows: string[][];
}

/** Each known report (the saved queries) and any other report found under the prefix, with its dates. */
export async function listReports(bucket: Bucket, prefix: string, known: readonly string[]): Promise<ReportSummary[]> {
  const objects = await bucket.list(prefix);
  const byName = new Map<string, { date: string; key: string; size: number }[]>(known.map((n) => [n, []]));
  for (const o of objects) {
    const rest = o.key.slice(prefix.length);
    const m = DATED.exec(`/${rest}`);
    const name = rest.split('/')[0];
    if (!m?.[1] || !name || rest !== `${name}/${m[1]}.csv`) continue;
    const list = byName.get(name) ?? [];
    list.push({ date: m[1], key: o.key, size: o.size });
    byName.set(name, list);
  }
  const out: ReportSummary[] = [];
  for (const [name, files] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
    files.sort((a, b) => a.date.localeCompare(b.date));
    const last = files.at(-1);
    const summary: ReportSummary = { name, dates: files.map((f) => f.date) };
    if (last) {
      const body = await bucket.get(last.key);
      summary.latest = { date: last.date, rows: body ? csvRows(body, bucket.uri(last.key)).rows.length : 0, location: bucket.uri(last.key), bytes: last.size };
    }
    out.push(summary);
  }
  return out;
}

function csvRows(body: Buffer, where: string): { columns: string[]; rows: string[][] } {
  let records: string[][];
  try {
    records = parse(body, { relax_column_count: false, bom: true }) as string[][];
  } catch (err) {
    throw new KafkalakeError(`not a readable CSV: ${(err as Error).message}`, { where, cause: err });
  }
  const [header, ...rows] = records;
  return { columns: header ?? [], rows };
}

/** One report's file of `date` (default: the newest); an unknown report or date names what there is. */
export async function readReport(bucket: Bucket, prefix: string, summaries: readonly ReportSummary[], name: string, date?: string): Promise<ReportFile> {
  const s = summaries.find((r) => r.name === name);
  if (!s) throw new KafkalakeError(`no report "${name}"; reports: ${summaries.map((r) => r.name).join(', ') || 'none'}`, { where: bucket.uri(prefix) });
  if (s.dates.length === 0) throw new KafkalakeError(`report ${name} has not run yet (run it: kafkalake run report ${name})`, { where: bucket.uri(`${prefix}${name}/`) });
  if (date !== undefined && !s.dates.includes(date)) {
    const recent = s.dates.slice(-10).reverse();
    throw new KafkalakeError(`report ${name} has no result for ${date}; dates kept: ${recent.join(', ')}${s.dates.length > recent.length ? `, … (${s.dates.length} in all)` : ''}`, {
      where: bucket.uri(`${prefix}${name}/`),
    });
  }
  const d = date ?? s.dates.at(-1)!;
  const key = `${prefix}${name}/${d}.csv`;
  const body = await bucket.get(key);
  if (!body) throw new KafkalakeError(`report ${name} of ${d} is gone (pruned while it was read?)`, { where: bucket.uri(key) });
  return { name, date: d, location: bucket.uri(key), ...csvRows(body, bucket.uri(key)) };
}
