// kafkalake producer — the producer daemon in the foreground, as systemd's ExecStart runs it: JSON logs on
// stdout, sent/failed/rate every producer.statsIntervalMs, SIGTERM stops it gracefully (exit 0).
import { runDaemon } from '../lib/lifecycle.js';
import { startProducerDaemon } from '../producer/main.js';
import { type Command, context, parse } from './context.js';

const usage = 'kafkalake producer [--config FILE]';

export const producer: Command = {
  name: 'producer',
  summary: 'the producer daemon in the foreground (what systemd runs)',
  usage,
  async run(args) {
    const { values } = parse(args, {}, usage);
    if (values.help) {
      process.stdout.write(`usage: ${usage}\nsettings: the producer.* and kafka.* keys of the config\n`);
      return 0;
    }
    const ctx = context('producer', values.config);
    await runDaemon(() => startProducerDaemon({ config: ctx.config, log: ctx.log }), { log: ctx.log, shutdownTimeoutMs: ctx.config.shutdownTimeoutMs });
    return 0;
  },
};
