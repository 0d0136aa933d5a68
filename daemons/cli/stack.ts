// kafkalake stack start|stop|status — the local ZooKeeper, Kafka and AWS twin only.
import { startStack, stackStatus, stopStack } from '../local/stack.js';
import { type Command, context, parse, UsageError } from './context.js';

const usage = 'kafkalake stack start|stop|status [--config FILE] [--json]';

export const stack: Command = {
  name: 'stack',
  summary: 'start, stop or check the local ZooKeeper, Kafka and AWS twin',
  usage,
  async run(args) {
    const { values, positionals } = parse(args, { json: { type: 'boolean' } }, usage, true);
    const action = positionals[0];
    if (values.help || !action) {
      process.stdout.write(`usage: ${usage}\n`);
      return action ? 0 : 2;
    }
    const ctx = context('stack', values.config, {}, 'stderr');
    const s = ctx.config.local;
    switch (action) {
      case 'start': {
        const handle = await startStack(s, { detached: true, timeoutMs: s.startTimeoutMs, log: ctx.log });
        const started = new Set(handle.processes.map((p) => p.name));
        for (const st of await stackStatus(s)) {
          process.stdout.write(`${st.name.padEnd(10)} ${st.endpoint.padEnd(24)} ${st.answers ? 'up' : 'DOWN'}${started.has(st.name) ? ' (started)' : ' (already running)'}\n`);
        }
        return 0;
      }
      case 'stop': {
        const stopped = await stopStack(s, ctx.log);
        process.stdout.write(stopped.length ? `stopped ${stopped.join(', ')}\n` : 'nothing was running\n');
        return 0;
      }
      case 'status': {
        const all = await stackStatus(s);
        if (values.json) process.stdout.write(`${JSON.stringify(all)}\n`);
        else for (const st of all) process.stdout.write(`${st.name.padEnd(10)} ${st.endpoint.padEnd(24)} ${st.answers ? 'up' : 'DOWN'}${st.pid ? ` pid ${st.pid}` : ''}\n`);
        return all.every((st) => st.answers) ? 0 : 1;
      }
      default:
        throw new UsageError(`unknown action "${action}"; usage: ${usage}`);
    }
  },
};
