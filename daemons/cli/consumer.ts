// kafkalake consumer — the consumer daemon in the foreground (what systemd's ExecStart runs).
import { startConsumerWorker } from '../consumer/isolate.js';
import { runDaemon } from '../lib/lifecycle.js';
import { type Command, context, parse } from './context.js';

const usage = 'kafkalake consumer [--config FILE]';

export const consumer: Command = {
  name: 'consumer',
  summary: 'the consumer daemon: Kafka topic → S3 staging, exactly once (foreground)',
  usage,
  async run(args) {
    const { values } = parse(args, {}, usage);
    if (values.help) {
      process.stdout.write(`usage: ${usage}\n`);
      return 0;
    }
    const ctx = context('consumer', values.config);
    await runDaemon((signal) => startConsumerWorker({ loaded: ctx, daemon: 'consumer', signal }), { log: ctx.log, shutdownTimeoutMs: ctx.config.shutdownTimeoutMs });
    return 0;
  },
};
