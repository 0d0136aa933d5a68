// kafkalake reports list | show NAME [--date YYYY-MM-DD] [--format table|csv|json] — the saved reports'
// results, read from reports/<name>/<date>.csv in the bucket (the twin's locally, S3 on AWS).
import { createAwsClients } from '../lib/aws.js';
import { formatResult, formatTable, OUTPUT_FORMATS, type OutputFormat } from '../lib/athena/format.js';
import { listReports, readReport } from '../lib/athena/report-store.js';
import { loadSavedQueries } from '../lib/athena/saved.js';
import { bucketOf } from '../lib/catalog/objects.js';
import { resolveFromRoot } from '../lib/paths.js';
import { type Command, context, parse, UsageError } from './context.js';

const usage = 'kafkalake reports list [--json] | reports show NAME [--date YYYY-MM-DD] [--format table|csv|json] [--config FILE]';

export const reports: Command = {
  name: 'reports',
  summary: 'the saved reports’ results: list them (latest date, rows, location) or show one as a table, CSV or JSON',
  usage,
  async run(args) {
    const { values, positionals } = parse(args, { date: { type: 'string' }, format: { type: 'string' }, json: { type: 'boolean' } }, usage, true);
    if (values.help) {
      process.stdout.write(`usage: ${usage}\n`);
      return 0;
    }
    const [sub, name, ...extra] = positionals;
    if (sub !== 'list' && sub !== 'show') throw new UsageError(`reports list or reports show NAME; usage: ${usage}`);
    if (sub === 'show' && !name) throw new UsageError(`reports show needs a report name; usage: ${usage}`);
    if ((sub === 'list' && name) || extra.length) throw new UsageError(`unexpected argument "${sub === 'list' ? name : extra[0]}"; usage: ${usage}`);
    if (values.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.date)) throw new UsageError(`--date must be YYYY-MM-DD, got "${values.date}"`);
    const format = (values.format ?? 'table') as OutputFormat;
    if (!OUTPUT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}, got "${values.format}"`);

    const ctx = context('reports', values.config, {}, 'stderr');
    const c = ctx.config;
    const known = loadSavedQueries(resolveFromRoot(c.reports.dir)).map((q) => q.name);
    const aws = createAwsClients(c);
    try {
      const bucket = bucketOf(aws.s3, c.aws.bucket);
      const summaries = await listReports(bucket, c.reports.prefix, known);
      if (sub === 'list') {
        if (values.json) {
          process.stdout.write(`${JSON.stringify(summaries)}\n`);
          return 0;
        }
        const rows = summaries.map((s) => [s.name, s.latest?.date ?? 'never run', s.latest ? String(s.latest.rows) : '-', s.latest?.location ?? '-', String(s.dates.length)]);
        const columns = ['report', 'latest', 'rows', 'location', 'kept'].map((n) => ({ name: n, type: 'varchar' }));
        process.stdout.write(formatTable({ columns, rows }));
        return 0;
      }
      const r = await readReport(bucket, c.reports.prefix, summaries, name!, values.date);
      const result = { columns: r.columns.map((n) => ({ name: n, type: 'varchar' })), rows: r.rows };
      process.stdout.write(formatResult(result, format));
      process.stderr.write(`${r.rows.length} rows; report ${r.name} of ${r.date} ← ${r.location}\n`);
      return 0;
    } finally {
      aws.destroy();
    }
  },
};
