// kafkalake produce — produce in the foreground: replay a CSV file or simulate ticks, a progress line on a
// terminal (stderr), a summary at the end (stdout); exit 1 if any record failed. Ctrl-C / SIGTERM stop it
// gracefully: what was taken is sent and acknowledged, then the summary.
import path from 'node:path';
import { oneLine } from '../lib/errors.js';
import { createLogger } from '../lib/log.js';
import type { BadRow } from '../producer/csv-source.js';
import { startProducer } from '../producer/main.js';
import { progressLine, summaryLine } from '../producer/stats.js';
import { type Command, context, intFlag, parse, UsageError } from './context.js';

const usage =
  'kafkalake produce [--source csv] [--file F] [--rate N] [--limit N] [--loop] | --source simulate [--rate N] [--count N] [--seed N] [--symbols N]; also [--topic T] [--config FILE]';

const options = {
  source: { type: 'string' },
  file: { type: 'string' },
  rate: { type: 'string' },
  limit: { type: 'string' },
  loop: { type: 'boolean' },
  count: { type: 'string' },
  seed: { type: 'string' },
  symbols: { type: 'string' },
  topic: { type: 'string' },
} as const;

/** bad rows printed one by one; past this, only counted (the summary has the total) */
const MAX_BAD_ROWS_SHOWN = 20;

function overrides(v: Partial<Record<keyof typeof options, string | boolean>>): Record<string, unknown> {
  const source = (v.source as string | undefined) ?? undefined;
  if (source !== undefined && source !== 'csv' && source !== 'simulate') throw new UsageError(`--source must be csv or simulate, got "${source}"`);
  const csvOnly = (['file', 'limit', 'loop'] as const).filter((k) => v[k] !== undefined);
  const simOnly = (['count', 'seed', 'symbols'] as const).filter((k) => v[k] !== undefined);
  if (source === 'simulate' && csvOnly.length) throw new UsageError(`--${csvOnly[0]} goes with --source csv; usage: ${usage}`);
  if (source !== 'simulate' && simOnly.length) throw new UsageError(`--${simOnly[0]} goes with --source simulate; usage: ${usage}`);
  const limit = source === 'simulate' ? intFlag('count', v.count as string | undefined, 1) : intFlag('limit', v.limit as string | undefined, 1);
  const seed = intFlag('seed', v.seed as string | undefined);
  const symbols = intFlag('symbols', v.symbols as string | undefined, 1);
  const producer: Record<string, unknown> = {
    rate: intFlag('rate', v.rate as string | undefined) ?? 0,
    loop: v.loop === true,
    limit: limit ?? 0,
  };
  if (source) producer.source = source;
  if (v.file !== undefined) producer.file = path.resolve(v.file as string); // relative to where the command runs
  if (seed !== undefined) producer.seed = seed;
  if (symbols !== undefined) producer.symbols = symbols;
  return { producer, ...(v.topic !== undefined ? { kafka: { topic: v.topic } } : {}) };
}

export const produce: Command = {
  name: 'produce',
  summary: 'produce in the foreground: replay a CSV file or simulate ticks, then a summary',
  usage,
  async run(args) {
    const { values } = parse(args, options, usage);
    if (values.help) {
      process.stdout.write(`usage: ${usage}\n`);
      return 0;
    }
    const ctx = context('produce', values.config, overrides(values), 'stderr');
    const err = (line: string) => process.stderr.write(`${line}\n`);
    const tty = process.stderr.isTTY === true;
    let shown = 0;
    const onBadRow = (bad: BadRow) => {
      if (++shown <= MAX_BAD_ROWS_SHOWN) err(`kafkalake: ${bad.file} line ${bad.line}: ${bad.reason}; row skipped`);
      else if (shown === MAX_BAD_ROWS_SHOWN + 1) err('kafkalake: more bad rows; only counted from here on');
    };
    // kafkajs' own retry chatter is for debugging; the command ends in one line saying what failed
    const kafkaLog = ctx.config.log.level === 'debug' ? ctx.log : createLogger({ daemon: 'produce', silent: true });
    const service = await startProducer({ config: ctx.config, log: ctx.log, kafkaLog, onBadRow });

    const progress = tty ? setInterval(() => process.stderr.write(`\r\x1b[K${progressLine(service.stats.snapshot())}`), 500) : undefined;
    let signal: string | undefined;
    const stop = (name: string) => {
      if (signal) return;
      signal = name;
      const deadline = setTimeout(() => {
        err(`kafkalake: stopping took longer than ${ctx.config.shutdownTimeoutMs} ms; exiting`);
        process.exit(1);
      }, ctx.config.shutdownTimeoutMs);
      deadline.unref();
      void service.close();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));

    let failure: unknown;
    try {
      await service.done;
    } catch (e) {
      failure = e;
    } finally {
      await service.close().catch((e: unknown) => (failure ??= e));
      if (progress) {
        clearInterval(progress);
        process.stderr.write('\r\x1b[K');
      }
    }
    const s = service.stats.snapshot();
    process.stdout.write(`${summaryLine(s, service.topic)}${signal ? ` (stopped by ${signal})` : ''}\n`);
    if (failure) throw failure instanceof Error ? failure : new Error(oneLine(failure));
    if (s.failed > 0) {
      err(`kafkalake: ${s.failed.toLocaleString('en-US')} records failed${s.badRows ? ` (${s.badRows.toLocaleString('en-US')} bad rows)` : ''}`);
      return 1;
    }
    return 0;
  },
};

