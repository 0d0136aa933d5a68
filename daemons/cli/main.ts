#!/usr/bin/env node
// The `kafkalake` command: one entry, one table of subcommands, one way to fail (a line and a code).
import { oneLine } from '../lib/errors.js';
import type { Command } from './context.js';
import { UsageError } from './context.js';
import { COMMANDS } from './commands.js';

// The AWS SDK prints a multi-line NodeVersionSupportWarning on node < 22 into every daemon's journal. The
// locked SDK versions support node 20; the note about node 22 for future SDK releases is in the docs.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: kafkalake <command> [options]   (every command takes --config FILE)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'kafkalake <command> --help shows the options of one command.',
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name ? 0 : 2;
  }
  const cmd: Command | undefined = COMMANDS.find((c) => c.name === name);
  if (!cmd) throw new UsageError(`unknown command "${name}"; run kafkalake --help`);
  return await cmd.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kafkalake: ${oneLine(err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
