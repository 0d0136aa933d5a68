// kafkalake scheduler — the scheduler daemon in the foreground (what systemd's ExecStart runs).
import { runDaemon } from '../lib/lifecycle.js';
import { startSchedulerDaemon } from '../scheduler/main.js';
import { type Command, context, parse } from './context.js';

const usage = 'kafkalake scheduler [--config FILE]';

export const scheduler: Command = {
  name: 'scheduler',
  summary: 'the scheduler daemon: ETL, crawl and saved reports on cron, lag, cluster and alarm monitors (foreground)',
  usage,
  async run(args) {
    const { values } = parse(args, {}, usage);
    if (values.help) {
      process.stdout.write(`usage: ${usage}\nsettings: etl.cron, crawl.cron, reports.cron and the scheduler.* and monitoring.* keys of the config\n`);
      return 0;
    }
    const ctx = context('scheduler', values.config);
    await runDaemon(() => startSchedulerDaemon({ config: ctx.config, log: ctx.log, secrets: ctx.secrets, logFormat: ctx.logFormat }), { log: ctx.log, shutdownTimeoutMs: ctx.config.shutdownTimeoutMs });
    return 0;
  },
};
