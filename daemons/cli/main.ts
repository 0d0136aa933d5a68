#!/usr/bin/env node
// The `kafkalake` command: one entry, one table of subcommands (each loaded only when it runs), one way
// to fail (a line and a code).
import { oneLine } from '../lib/errors.js';
import { COMMANDS, helpText } from './commands.js';
import { UsageError } from './usage-error.js';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(helpText());
    return name ? 0 : 2;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) throw new UsageError(`unknown command "${name}"; run kafkalake --help`);
  const cmd = await entry.load();
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
