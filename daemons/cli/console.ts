// kafkalake console [--port N] [--host ADDR] — the pipeline and the reports on one read-only page: the
// flow with each stage's rate, lag or freshness and health, the last hour of metrics, the job history,
// the dead letters, and every saved report as a table and a chart. Binds 127.0.0.1 unless told
// otherwise; Ctrl-C (or SIGTERM) stops it.
import { resolveFromRoot } from '../lib/paths.js';
import { type Command, context, intFlag, parse, UsageError } from './context.js';

const usage = 'kafkalake console [--config FILE] [--port N] [--host ADDR]';

export const consoleCommand: Command = {
  name: 'console',
  summary: 'the pipeline and the reports on one read-only web page (127.0.0.1:8080 unless told otherwise)',
  usage,
  async run(args) {
    const { values } = parse(args, { port: { type: 'string' }, host: { type: 'string' } }, usage);
    if (values.help) {
      process.stdout.write(`usage: ${usage}\n`);
      return 0;
    }
    const port = intFlag('port', values.port) ?? 8080;
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
    const host = values.host ?? '127.0.0.1';
    const [{ RUN_JOBS }, { buildJobs }, { listReportFiles }, { consoleData }, { startConsoleServer }] = await Promise.all([
      import('../jobs/table.js'),
      import('../scheduler/jobs.js'),
      import('../scheduler/report-files.js'),
      import('../console/data.js'),
      import('../console/server.js'),
    ]);
    const ctx = context('console', values.config, {}, 'stderr');
    const quiet = ctx.log.child({});
    quiet.level = 'error';
    const jobs = buildJobs({ config: ctx.config, log: quiet, runJobs: RUN_JOBS, reports: listReportFiles(resolveFromRoot(ctx.config.reports.dir)) });
    const data = consoleData({ config: ctx.config, log: quiet, jobs });
    let srv;
    try {
      srv = await startConsoleServer({ data, log: ctx.log, host, port });
    } catch (err) {
      data.close();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new UsageError(`port ${port} on ${host} is in use: choose another with --port`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UsageError(`cannot listen on ${host}: not an address of this machine (--host)`);
      throw err;
    }
    process.stdout.write(`kafkalake console: ${srv.url} (mode ${ctx.config.mode}, read-only; Ctrl-C stops it)\n`);
    if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') process.stderr.write(`kafkalake console: listening on ${host}: anyone who reaches it sees the pipeline (read-only, no secrets)\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await srv.close();
    data.close();
    return 0;
  },
};
