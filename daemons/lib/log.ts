// winston, JSON lines to stdout (journald keeps them; `journalctl -o cat | jq` reads them), an optional
// file for the CloudWatch agent, one logger per daemon with its name on every line, child loggers per
// component, and secrets redacted before anything is written.
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
  const format = winston.format.combine(
    winston.format.timestamp({ format: () => new Date().toISOString() }),
    redact({ secrets: opts.secrets ?? [] }),
    winston.format.json(),
  );
  const transports: winston.transport[] = [
    opts.stream ? new winston.transports.Stream({ stream: opts.stream }) : new winston.transports.Console(),
  ];
  if (opts.file) transports.push(new winston.transports.File({ filename: opts.file }));
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
