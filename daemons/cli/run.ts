// kafkalake run <job> — one scheduler job, now, in the configured mode. The jobs are a table
// (daemons/jobs/table.ts): add a row (crawl, report NAME, all) to add one.
import { RUN_JOBS } from '../jobs/table.js';
import { type Command, context, parse, UsageError } from './context.js';

const usage = `kafkalake run ${RUN_JOBS.map((j) => j.name).join('|')} [--config FILE] [--json]`;

export const run: Command = {
  name: 'run',
  summary: 'run one scheduler job now (etl, compact, crawl, report NAME) in the configured mode',
  usage,
  async run(args) {
    const { values, positionals } = parse(args, { json: { type: 'boolean' } }, usage, true);
    const name = positionals[0];
    if (values.help || !name) {
      process.stdout.write(`usage: ${usage}\n${RUN_JOBS.map((j) => `  ${j.name.padEnd(8)} ${j.summary}\n`).join('')}`);
      return name ? 0 : 2;
    }
    const job = RUN_JOBS.find((j) => j.name === name);
    if (!job) throw new UsageError(`unknown job "${name}"; usage: ${usage}`);
    const ctx = context(`run-${name}`, values.config, {}, 'stderr');
    const { report, lines } = await job.run(ctx.config, ctx.log, positionals.slice(1));
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : lines.map((l) => `${l}\n`).join(''));
    return 0;
  },
};
