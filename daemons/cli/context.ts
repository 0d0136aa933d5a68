// What every command shares: its flags parsed with util.parseArgs, the config loaded once, a logger.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { type LoadedConfig, loadConfig } from '../lib/config/index.js';
import { createLogger, type LogFormat, type Logger, resolveLogFormat } from '../lib/log.js';
import { UsageError } from './usage-error.js';

export { UsageError };

export interface Command {
  name: string;
  /** one line for `kafkalake --help` */
  summary: string;
  usage: string;
  /** returns the exit code */
  run(args: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

export const CONFIG_OPTION = { config: { type: 'string' } } as const satisfies Options;

/** parseArgs with a one-line UsageError instead of node's multi-line TypeError. */
export function parse<O extends Options>(args: string[], options: O, usage: string, allowPositionals = false) {
  try {
    return parseArgs({ args, options: { ...CONFIG_OPTION, ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split('\n')[0]}; usage: ${usage}`);
  }
}

export interface Context extends LoadedConfig {
  log: Logger;
  /** what log.format came to on this process's log stream (a worker thread or a child is told it) */
  logFormat: LogFormat;
}

/**
 * Load the config (flags win over file and env) and make the logger. Daemons log JSON to stdout;
 * interactive commands keep stdout for their own output and log to stderr.
 */
export function context(
  daemon: string,
  configFile: string | undefined,
  overrides: Record<string, unknown> = {},
  logTo: 'stdout' | 'stderr' = 'stdout',
): Context {
  const loaded = loadConfig({ file: configFile, overrides });
  const logFormat = resolveLogFormat(loaded.config.log.format, logTo === 'stderr' ? process.stderr : process.stdout);
  const log = createLogger({
    format: logFormat,
    daemon,
    level: logTo === 'stderr' && loaded.config.log.level === 'info' ? 'warn' : loaded.config.log.level,
    file: loaded.config.log.file,
    secrets: loaded.secrets,
    ...(logTo === 'stderr' ? { stream: process.stderr } : {}),
  });
  return { ...loaded, log, logFormat };
}

/** Parse a decimal flag value; a UsageError naming the flag if it is not a whole number ≥ min. */
export function intFlag(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${name} must be a whole number ≥ ${min}, got "${value}"`);
  return Number(value);
}
