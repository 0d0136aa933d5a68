// convict formats of the schema. Each validate() throws a message that says what is allowed; the
// loader adds the key, the value and where it came from. coerce() applies to env values (strings).
import convict from 'convict';
import cron from 'node-cron';

const intFrom = (v: unknown): unknown => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v);

function integerAtLeast(min: number, what: string) {
  return (v: unknown): void => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(what);
  };
}

function validateCrawlTargets(v: unknown): void {
  const ok =
    Array.isArray(v) &&
    v.length > 0 &&
    v.every((t: unknown) => {
      const o = t as Record<string, unknown>;
      return (
        o !== null &&
        typeof o === 'object' &&
        typeof o.path === 'string' &&
        /^[^/].*\/$/.test(o.path) &&
        typeof o.tablePrefix === 'string' &&
        Array.isArray(o.exclude) &&
        o.exclude.every((e) => typeof e === 'string') &&
        Object.keys(o).every((k) => ['path', 'tablePrefix', 'exclude'].includes(k))
      );
    });
  if (!ok) throw new Error('must be a non-empty list of {path: "prefix/" (bucket-relative, ending in /), tablePrefix: string, exclude: ["prefix/", ...]}');
}

/** env values of structured keys are JSON */
const jsonFrom = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
};

let registered = false;

export function registerFormats(): void {
  if (registered) return;
  registered = true;
  convict.addFormats({
    'non-negative-int': { validate: integerAtLeast(0, 'must be an integer ≥ 0'), coerce: intFrom },
    'positive-int': { validate: integerAtLeast(1, 'must be an integer ≥ 1'), coerce: intFrom },
    'tcp-port': {
      validate: (v: unknown) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) throw new Error('must be a TCP port, an integer from 1 to 65535');
      },
      coerce: intFrom,
    },
    bool: {
      validate: (v: unknown) => {
        if (typeof v !== 'boolean') throw new Error('must be true or false');
      },
      coerce: (v: unknown) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v),
    },
    'non-empty-string': {
      validate: (v: unknown) => {
        if (typeof v !== 'string' || v.trim() === '') throw new Error('must be a non-empty string');
      },
    },
    'topic-name': {
      validate: (v: unknown) => {
        if (typeof v !== 'string' || !/^[A-Za-z0-9._-]{1,249}$/.test(v)) throw new Error('must be a Kafka topic name: 1 to 249 of A-Z a-z 0-9 . _ -');
      },
    },
    'broker-list': {
      validate: (v: unknown) => {
        const ok = Array.isArray(v) && v.length > 0 && v.every((b) => typeof b === 'string' && /^[^\s:]+:\d{1,5}$/.test(b));
        if (!ok) throw new Error('must be a non-empty list of host:port');
      },
      coerce: (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
    },
    'url-or-empty': {
      validate: (v: unknown) => {
        if (v === '') return;
        if (typeof v !== 'string' || !/^https?:\/\/[^\s/]+/.test(v)) throw new Error('must be an http(s) URL, or empty for the AWS endpoints');
      },
    },
    'crawl-targets': { validate: validateCrawlTargets, coerce: jsonFrom },
    cron: {
      validate: (v: unknown) => {
        if (typeof v !== 'string' || !cron.validate(v)) throw new Error('must be a cron expression (5 fields, or 6 with seconds first)');
      },
    },
    'cron-or-empty': {
      validate: (v: unknown) => {
        if (v === '') return;
        if (typeof v !== 'string' || !cron.validate(v)) throw new Error('must be a cron expression (5 fields, or 6 with seconds first), or empty');
      },
    },
  });
}
