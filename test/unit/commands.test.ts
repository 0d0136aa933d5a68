// The command table: each line loads the module it names, and that module agrees with its line, so the
// summary `kafkalake --help` prints (without loading any command) is the command's own.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { COMMANDS, helpText } from '../../daemons/cli/commands.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';

const CLI = path.join(PROJECT_ROOT, 'dist/daemons/cli/main.js');

test('every line of the table loads its command, with the same name and summary', async (t) => {
  t.is(new Set(COMMANDS.map((c) => c.name)).size, COMMANDS.length, 'names are unique');
  for (const entry of COMMANDS) {
    const cmd = await entry.load();
    t.is(cmd.name, entry.name);
    t.is(cmd.summary, entry.summary, `commands.ts and ${entry.name}.ts carry the same summary`);
    t.regex(cmd.usage, new RegExp(`^kafkalake ${entry.name}\\b`));
  }
});

test('kafkalake --help lists every command with its summary', async (t) => {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, '--help']);
  t.is(stdout, helpText());
  for (const c of COMMANDS) t.regex(stdout, new RegExp(`^  ${c.name} +${c.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
});
