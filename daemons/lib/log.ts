// winston, JSON lines to stdout (journald keeps them; `journalctl -o cat | jq` reads them), an optional
// file for the CloudWatch agent, one logger per daemon with its name on every line, child loggers per
// component, and secrets redacted before anything is written. On a terminal (log.format auto or pretty)
// the stream gets short lines for a person instead ("17:41:09 consumer  info  partition assigned …");
// the file, which the CloudWatch agent reads, is JSON whatever the format.
import winston from 'winston';

export type Logger = winston.Logger;

export interface LogOptions {
  daemon: string;
  level?: string;
  /** also append JSON lines here; empty or undefined: stdout only */
  file?: string | undefined;
  /** values to mask wherever they appear (the config's sensitive values) */
  secrets?: readonly string[];
  /** where lines go; default stdout. Tests and CLI commands pass their own stream (stderr, say). */
  stream?: NodeJS.WritableStream;
  silent?: boolean;
  /** what the stream gets (resolveLogFormat decides auto); default json */
  format?: LogFormat;
}

/** What a log stream gets: one JSON object per line, or a short line for a person. */
export type LogFormat = 'json' | 'pretty';

/** log.format auto: pretty on a terminal, JSON everywhere else (journald, a pipe, a file). */
export function resolveLogFormat(setting: 'auto' | LogFormat, stream: { isTTY?: boolean }): LogFormat {
  if (setting !== 'auto') return setting;
  return stream.isTTY === true ? 'pretty' : 'json';
}

/** the keys a pretty line shows in its own columns, or never (component: the daemon says enough) */
const PRETTY_OMIT = new Set(['timestamp', 'level', 'message', 'daemon', 'component', 'stack']);

/** numbers that name something (a process, a port, an offset) rather than count it: shown as they are, greppable */
const IDENTIFIER_KEY = /(pid|worker|port|offset|through|generation|epoch|year|id|at)$/i;

function prettyValue(k: string, v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) >= 10_000 && !IDENTIFIER_KEY.test(k) ? v.toLocaleString('en-US') : String(v);
  if (typeof v === 'string') return v === '' || /[\s="]/.test(v) ? JSON.stringify(v) : v;
  if (v === null || v === undefined || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** "17:41:09 consumer  info  partition assigned; resuming after the last staged offset  partition=3 stagedThrough=120400 staged=12,345" */
export function prettyLine(info: Record<string, unknown>): string {
  const ts = typeof info.timestamp === 'string' ? new Date(info.timestamp) : new Date();
  const time = [ts.getHours(), ts.getMinutes(), ts.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  const fields = Object.entries(info)
    .filter(([k, v]) => !PRETTY_OMIT.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${prettyValue(k, v)}`)
    .join(' ');
  const daemon = typeof info.daemon === 'string' ? info.daemon : '';
  const level = typeof info.level === 'string' ? info.level : '';
  const message = typeof info.message === 'string' ? info.message : JSON.stringify(info.message ?? '');
  return `${time} ${daemon.padEnd(9)} ${level.padEnd(5)} ${message}${fields ? `  ${fields}` : ''}`;
}

const SECRET_KEY = /pass(word)?|secret|token|credential|authorization|accesskey|session/i;
const MASK = '***';

function redactValue(v: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof v === 'string') {
    let s = v;
    for (const secret of secrets) if (secret.length >= 4 && s.includes(secret)) s = s.split(secret).join(MASK);
    return s;
  }
  if (depth > 6 || v === null || typeof v !== 'object') return v;
  if (v instanceof Error) return redactValue({ message: v.message, name: v.name }, secrets, depth + 1);
  if (Array.isArray(v)) return v.map((x) => redactValue(x, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = SECRET_KEY.test(k) && x !== '' && x !== undefined ? MASK : redactValue(x, secrets, depth + 1);
  return out;
}

/** A winston format that masks secret-looking keys and every known secret value. */
export const redact = winston.format((info, opts: unknown) => {
  const secrets = (opts as { secrets?: readonly string[] } | undefined)?.secrets ?? [];
  for (const key of Object.keys(info)) {
    const v = info[key];
    info[key] = SECRET_KEY.test(key) && v !== '' && v !== undefined ? MASK : redactValue(v, secrets, 0);
  }
  // winston keeps the message under a symbol too; the JSON format reads the plain keys
  return info;
});

export function createLogger(opts: LogOptions): Logger {
  // timestamped and redacted once for every transport; each transport then writes it its own way
  const format = winston.format.combine(winston.format.timestamp({ format: () => new Date().toISOString() }), redact({ secrets: opts.secrets ?? [] }));
  const streamFormat = opts.format === 'pretty' ? winston.format.printf((info) => prettyLine(info)) : winston.format.json();
  const transports: winston.transport[] = [
    opts.stream ? new winston.transports.Stream({ stream: opts.stream, format: streamFormat }) : new winston.transports.Console({ format: streamFormat }),
  ];
  if (opts.file) transports.push(new winston.transports.File({ filename: opts.file, format: winston.format.json() }));
  return winston.createLogger({
    level: opts.level ?? 'info',
    defaultMeta: { daemon: opts.daemon },
    format,
    transports,
    silent: opts.silent ?? false,
    exitOnError: false,
  });
}

/** Wait until every transport has written what it was given (before process.exit). */
export async function flushLogger(logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = setTimeout(resolve, 2000);
    logger.on('finish', () => {
      clearTimeout(done);
      resolve();
    });
    logger.end();
  });
}
