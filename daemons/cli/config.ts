// kafkalake config show|reference — the effective configuration (secrets hidden), or the reference
// table of every key (the README's config section is this output, checked by a test).
import { describeSchema } from '../lib/config/index.js';
import { type Command, context, parse, UsageError } from './context.js';

const usage = 'kafkalake config show|reference [--config FILE]';

/** The markdown table of every key: key, env var, default, what it does. */
export function referenceTable(): string {
  const rows = describeSchema().map((k) => {
    const def = k.sensitive ? '(secret)' : JSON.stringify(k.default);
    return `| \`${k.key}\` | \`${k.env}\` | \`${def}\` | ${k.doc.replace(/\|/g, '\\|')} |`;
  });
  return ['| key | env var | default | what it sets |', '|---|---|---|---|', ...rows].join('\n');
}

function hideSecrets(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return secrets.includes(value) ? '(hidden)' : value;
  if (Array.isArray(value)) return value.map((v) => hideSecrets(v, secrets));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hideSecrets(v, secrets)]));
  return value;
}

export const config: Command = {
  name: 'config',
  summary: 'print the effective configuration (secrets hidden), or the reference of every key',
  usage,
  async run(args) {
    const { values, positionals } = parse(args, {}, usage, true);
    const action = positionals[0];
    if (values.help) {
      process.stdout.write(`usage: ${usage}\n`);
      return 0;
    }
    if (action === 'reference') {
      process.stdout.write(`${referenceTable()}\n`);
      return 0;
    }
    if (action === 'show') {
      const ctx = context('config', values.config, {}, 'stderr');
      process.stdout.write(`# ${ctx.file}\n${JSON.stringify(hideSecrets(ctx.config, ctx.secrets), null, 2)}\n`);
      return 0;
    }
    throw new UsageError(`unknown action "${action ?? ''}"; usage: ${usage}`);
  },
};
