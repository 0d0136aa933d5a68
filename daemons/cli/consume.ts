// kafkalake consume [--once] — consume in the foreground; with --once: take every partition's end offset
// now, stage everything up to it, commit, print a summary and exit 0.
import { startConsumerWorker } from '../consumer/isolate.js';
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
      await runDaemon((signal) => startConsumerWorker({ loaded: ctx, daemon: 'consume', signal }), { log: ctx.log, shutdownTimeoutMs: ctx.config.shutdownTimeoutMs });
      return 0;
    }
    const t0 = Date.now();
    const svc = await startConsumerWorker({ loaded: ctx, daemon: 'consume', once: true, logToStderr: true });
    let stop: (() => void) | undefined;
    let wasInterrupted = false;
    const interrupted = new Promise<void>((resolve) => {
      stop = resolve;
      const onSignal = () => {
        wasInterrupted = true;
        resolve();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    });
    try {
      await Promise.race([svc.done, interrupted]);
    } finally {
      await svc.close();
      stop?.();
    }
    const s = svc.stats() ?? { staged: 0, dead: 0, skipped: 0, objects: 0 };
    process.stdout.write(
      `${wasInterrupted ? 'interrupted before the end offsets were reached; ' : ''}staged ${s.staged} records, ${s.dead} to the DLQ, ${s.skipped} already staged, in ${s.objects} objects under s3://${ctx.config.aws.bucket}/${ctx.config.consumer.stagingPrefix}/${ctx.config.kafka.topic}/ (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`,
    );
    return wasInterrupted ? 1 : 0;
  },
};
