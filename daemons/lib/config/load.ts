// Load, validate (strictly) and freeze the configuration, once, at boot.
// Order of precedence: schema defaults < the JSON file < KAFKALAKE_* env vars < overrides (CLI flags).
// Every failure is one ConfigError line naming the key, where its value came from and what is allowed.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import convict from 'convict';
import { KafkalakeError } from '../errors.js';
import { PROJECT_ROOT, resolveFromRoot } from '../paths.js';
import { registerFormats } from './formats.js';
import { type Config, schema } from './schema.js';

export const HOST_CONFIG = '/etc/kafkalake/config.json';
export const LOCAL_CONFIG = 'config/local.json';

export class ConfigError extends KafkalakeError {
  constructor(message: string, cause?: unknown) {
    super(`config: ${message}`, { where: 'config', retriable: false, cause, explainsCause: true });
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** --config FILE; else KAFKALAKE_CONFIG, else /etc/kafkalake/config.json if present, else config/local.json */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** values set by command-line flags, as a nested partial config; they win over everything */
  overrides?: Record<string, unknown>;
  /** test seam: whether the host config exists */
  hostConfigExists?: () => boolean;
}

export interface LoadedConfig {
  config: Readonly<Config>;
  /** the file that was read */
  file: string;
  /** every sensitive value that is set, so loggers can redact them wherever they appear */
  secrets: string[];
}

interface SchemaNode {
  doc?: string;
  env?: string;
  sensitive?: boolean;
  format?: unknown;
}

function isLeaf(node: unknown): node is SchemaNode {
  return typeof node === 'object' && node !== null && 'doc' in node && 'format' in node;
}

function leaves(node: object, prefix = ''): Map<string, SchemaNode> {
  const out = new Map<string, SchemaNode>();
  for (const [k, v] of Object.entries(node) as Array<[string, object]>) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isLeaf(v)) out.set(key, v);
    else for (const [kk, vv] of leaves(v, key)) out.set(kk, vv);
  }
  return out;
}

const LEAVES = leaves(schema);

function flatten(obj: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (!LEAVES.has(key) && v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
      else out.set(key, v);
    }
  }
  return out;
}

function chooseFile(opts: LoadOptions, env: NodeJS.ProcessEnv): string {
  if (opts.file) return path.resolve(opts.file);
  if (env.KAFKALAKE_CONFIG) return path.resolve(env.KAFKALAKE_CONFIG);
  const hostExists = opts.hostConfigExists ?? (() => existsSync(HOST_CONFIG));
  if (hostExists()) return HOST_CONFIG;
  return path.join(PROJECT_ROOT, LOCAL_CONFIG);
}

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(code);
    throw new ConfigError(`cannot read ${file}: ${why}`, err);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`, err);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`${file} must hold a JSON object`);
  return data as Record<string, unknown>;
}

function show(value: unknown, sensitive: boolean): string {
  if (sensitive) return '(hidden)';
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

function allowedOf(leaf: SchemaNode): string | undefined {
  return Array.isArray(leaf.format) ? `one of ${leaf.format.join(', ')}` : undefined;
}

/** Where a key's value came from: the command line, the env, the file or the default. */
function sourceOf(key: string, leaf: SchemaNode | undefined, file: string, fileValues: Map<string, unknown>, env: NodeJS.ProcessEnv, overrides: Map<string, unknown>): { source: string; value: unknown } {
  if (overrides.has(key)) return { source: 'command line', value: overrides.get(key) };
  if (leaf?.env && env[leaf.env] !== undefined) return { source: `env ${leaf.env}`, value: env[leaf.env] };
  if (fileValues.has(key)) return { source: file, value: fileValues.get(key) };
  return { source: 'default', value: undefined };
}

/** Glue's limit on a job run's Timeout (StartJobRun: "less than 7 days or 10080 minutes"). */
export const GLUE_MAX_TIMEOUT_MINUTES = 10080;
/**
 * What etl.timeoutMs must leave beyond the Glue run's Timeout in aws mode. Glue's Timeout is "the maximum
 * time that a job run can consume resources" (StartJobRun): the run's start-up, and the wait for resources
 * before it (WAITING: "AWS Glue will retry for a maximum of 15 minutes"), come on top and count for us.
 */
export const GLUE_START_ALLOWANCE_MS = 20 * 60_000;
const LOCAL_ETL_TIMEOUT_MS = 30 * 60_000;

/** etl.timeoutMs made effective (0 derived) and, in aws mode, checked to outlast the Glue run's own Timeout. */
function etlTimeout(c: Config, from: (key: string) => string): void {
  const glue = c.etl.glueTimeoutMinutes;
  if (glue > GLUE_MAX_TIMEOUT_MINUTES) {
    throw new ConfigError(`etl.glueTimeoutMinutes = ${glue} (from ${from('etl.glueTimeoutMinutes')}): must be at most ${GLUE_MAX_TIMEOUT_MINUTES} (Glue's limit on a run's Timeout)`);
  }
  const least = glue * 60_000 + GLUE_START_ALLOWANCE_MS;
  if (c.etl.timeoutMs === 0) {
    c.etl.timeoutMs = c.mode === 'aws' ? least : LOCAL_ETL_TIMEOUT_MS;
    return;
  }
  if (c.mode === 'aws' && c.etl.timeoutMs < least) {
    throw new ConfigError(
      `etl.timeoutMs = ${c.etl.timeoutMs} (from ${from('etl.timeoutMs')}): must be at least ${least} in aws mode, the Glue run's Timeout (etl.glueTimeoutMinutes ${glue} min) plus ${GLUE_START_ALLOWANCE_MS / 60_000} min for its start-up and wait for resources, or 0 to derive it; else the runner gives up on a run Glue is still allowed to finish`,
    );
  }
}

/** Turn one line of convict's validation message into ours. */
function explain(line: string, file: string, fileValues: Map<string, unknown>, env: NodeJS.ProcessEnv, overrides: Map<string, unknown>): string {
  const undeclared = /^configuration param '([^']+)' not declared in the schema/.exec(line);
  if (undeclared?.[1]) {
    const key = undeclared[1];
    const parent = key.includes('.') ? key.slice(0, key.lastIndexOf('.')) : '';
    const siblings = [...LEAVES.keys()]
      .filter((k) => (parent ? k.startsWith(`${parent}.`) : true))
      .map((k) => (parent ? k.slice(parent.length + 1).split('.')[0] : k.split('.')[0]))
      .filter((k, i, all) => all.indexOf(k) === i);
    return `unknown key ${key} in ${file}; known keys${parent ? ` under ${parent}` : ''}: ${siblings.join(', ')}`;
  }
  const m = /^([\w.]+): (.*?)(?:: value was (.*))?$/.exec(line);
  const key = m?.[1];
  const leaf = key ? LEAVES.get(key) : undefined;
  if (!m || !key || !leaf) return line;
  const sensitive = leaf.sensitive === true;
  const { source, value } = sourceOf(key, leaf, file, fileValues, env, overrides);
  const reason = allowedOf(leaf) ? `must be ${allowedOf(leaf)}` : (m[2] ?? 'invalid').replace(/^must be of type (\w+)$/, (_s, t: string) => `must be a ${t.toLowerCase()}`);
  return `${key} = ${show(value, sensitive)} (from ${source}): ${reason}`;
}

function deepFreeze<T>(o: T): Readonly<T> {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Checks that span keys: what one key requires of another. */
function crossCheck(c: Config, file: string): void {
  if (c.mode === 'aws' && c.aws.bucket === '') throw new ConfigError(`aws.bucket is required in aws mode (set it in ${file} or KAFKALAKE_AWS_BUCKET)`);
  if ((c.aws.accessKeyId === '') !== (c.aws.secretAccessKey === '')) {
    throw new ConfigError('aws.accessKeyId and aws.secretAccessKey go together: set both, or neither for the default credential chain');
  }
  if (c.kafka.sasl.mechanism !== 'none' && (c.kafka.sasl.username === '' || c.kafka.sasl.password === '')) {
    throw new ConfigError(`kafka.sasl.mechanism ${c.kafka.sasl.mechanism} needs kafka.sasl.username and kafka.sasl.password`);
  }
  if (c.crawl.recrawlPolicy === 'CRAWL_NEW_FOLDERS_ONLY' && (c.crawl.schemaChangePolicy !== 'LOG' || c.crawl.deleteBehavior !== 'LOG')) {
    const now = `schemaChangePolicy is ${c.crawl.schemaChangePolicy}, deleteBehavior ${c.crawl.deleteBehavior}`;
    throw new ConfigError(`crawl.recrawlPolicy CRAWL_NEW_FOLDERS_ONLY needs crawl.schemaChangePolicy LOG and crawl.deleteBehavior LOG, as Glue requires (${now})`);
  }
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  registerFormats();
  const env = opts.env ?? process.env;
  const file = chooseFile(opts, env);
  const data = readJson(file);
  const fileValues = flatten(data);
  const overrides = flatten(opts.overrides ?? {});

  const c = convict<Config>(schema as unknown as convict.Schema<Config>, { env: env, args: [] });
  try {
    c.load(data);
    // set() after load(): convict re-applies env on every load(), so flags must come last
    for (const [k, v] of overrides) c.set(k as never, v as never);
    c.validate({ allowed: 'strict' });
  } catch (err) {
    const lines = String((err as Error).message).split('\n').filter(Boolean);
    throw new ConfigError(lines.map((l) => explain(l, file, fileValues, env, overrides)).join('; '), err);
  }
  const config = c.getProperties();
  for (const key of ['producer.file', 'local.stateDir', 'local.libDir', 'local.venvDir', 'log.file'] as const) {
    const [a, b] = key.split('.') as [keyof Config, string];
    const section = config[a] as unknown as Record<string, string>;
    if (section[b]) section[b] = resolveFromRoot(section[b]);
  }
  // local mode: the broker is the local stack's unless the file, env or a flag names one, so moving
  // local.kafkaPort (9092 taken) moves every client with it
  const brokersSet = fileValues.has('kafka.brokers') || env.KAFKALAKE_KAFKA_BROKERS !== undefined || overrides.has('kafka.brokers');
  if (config.mode === 'local' && !brokersSet) config.kafka.brokers = [`${config.local.host}:${config.local.kafkaPort}`];
  crossCheck(config, file);
  etlTimeout(config, (key) => sourceOf(key, LEAVES.get(key), file, fileValues, env, overrides).source);
  const secrets = [...LEAVES]
    .filter(([, leaf]) => leaf.sensitive)
    .map(([key]) => c.get(key as never) as unknown)
    .filter((v): v is string => typeof v === 'string' && v.length > 0);
  return { config: deepFreeze(config), file, secrets };
}

/** Every key of the schema with its doc, default and env var: the README's config reference. */
export function describeSchema(): Array<{ key: string; doc: string; default: unknown; env: string; sensitive: boolean }> {
  registerFormats();
  const c = convict(schema as unknown as convict.Schema<Config>, { env: {}, args: [] });
  return [...LEAVES].map(([key, leaf]) => ({
    key,
    doc: leaf.doc ?? '',
    default: c.default(key as never),
    env: leaf.env ?? '',
    sensitive: leaf.sensitive === true,
  }));
}
