// kafkalake consume [--once] — consume in the foreground; with --once: take every partition's end offset
// now, stage everything up to it, commit, print a summary and exit 0.
import { startConsumerDaemon } from '../consumer/main.js';
import { runDaemon } from '../lib/lifecycle.js';
import { type Command, context, parse } from './context.js';

const usage = 'kafkalake consume [--once] [--config FILE]';

export const consume: Command = {
  name: 'consume',
  summary: 'consume the topic into staging; --once: drain every partition to its current end, then exit',
  usage,
  async run(args) {
    const { values } = parse(args, { once: { type: 'boolean' } }, usage);
    if (values.help) {
      process.stdout.write(`usage: ${usage}\n`);
      return 0;
    }
    const ctx = context('consume', values.config, {}, values.once ? 'stderr' : 'stdout');
    if (!values.once) {
      await runDaemon(() => startConsumerDaemon({ config: ctx.config, log: ctx.log }), { log: ctx.log, shutdownTimeoutMs: ctx.config.shutdownTimeoutMs });
      return 0;
    }
    const t0 = Date.now();
    const svc = await startConsumerDaemon({ config: ctx.config, log: ctx.log, once: true });
    let stop: (() => void) | undefined;
    const interrupted = new Promise<void>((resolve) => {
      stop = resolve;
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    try {
      await Promise.race([svc.done, interrupted]);
    } finally {
      await svc.close();
      stop?.();
    }
    const s = svc.stats();
    process.stdout.write(
      `staged ${s.staged} records, ${s.dead} to the DLQ, ${s.skipped} already staged, in ${s.objects} objects under s3://${ctx.config.aws.bucket}/${ctx.config.consumer.stagingPrefix}/${ctx.config.kafka.topic}/ (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`,
    );
    return 0;
  },
};
