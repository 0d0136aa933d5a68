// kafkalake query "SQL" [--format table|csv|json] — Athena-dialect SQL through the mode's engine
// (DuckDB over the twin's catalog locally, Athena in aws mode). The result goes to stdout, the query
// id and output location to stderr; a failure is one line with the query's error and position.
import { createQueryEngine } from '../jobs/query.js';
import { formatResult, OUTPUT_FORMATS, type OutputFormat } from '../lib/athena/format.js';
import { type Command, context, parse, UsageError } from './context.js';

const usage = 'kafkalake query "SQL" [--format table|csv|json] [--config FILE]';

export const query: Command = {
  name: 'query',
  summary: 'run Athena-dialect SQL over the catalogued tables (DuckDB locally, Athena in aws mode)',
  usage,
  async run(args) {
    const { values, positionals } = parse(args, { format: { type: 'string' } }, usage, true);
    if (values.help) {
      process.stdout.write(`usage: ${usage}\n`);
      return 0;
    }
    const sql = positionals.join(' ').trim();
    if (!sql) throw new UsageError(`no SQL given; usage: ${usage}`);
    const format = (values.format ?? 'table') as OutputFormat;
    if (!OUTPUT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}, got "${values.format}"`);
    const ctx = context('query', values.config, {}, 'stderr');
    const engine = createQueryEngine(ctx.config, ctx.log);
    try {
      const r = await engine.query(sql, 'query');
      process.stdout.write(formatResult(r, format));
      process.stderr.write(`${r.rows.length} rows; query ${r.queryId} (${r.engine}, ${(r.durationMs / 1000).toFixed(2)} s) → ${r.outputLocation}\n`);
      return 0;
    } finally {
      engine.close();
    }
  },
};
