// The docs stay true: the README's config reference is the schema's, and every command it lists exists.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { COMMANDS } from '../../daemons/cli/commands.js';
import { referenceTable } from '../../daemons/cli/config.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';

const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');

test('the README carries the config reference generated from the schema (kafkalake config reference)', (t) => {
  t.true(readme.includes(referenceTable()), 'regenerate it: node dist/daemons/cli/main.js config reference');
});

test('the README lists every kafkalake command, and no command that does not exist', (t) => {
  const listed = [...readme.matchAll(/^\| `kafkalake ([a-z-]+)/gm)].map((m) => m[1]);
  const names = COMMANDS.map((c) => c.name);
  t.deepEqual([...new Set(listed)].sort(), [...names].sort());
});

test('the README names no placeholder left to fill', (t) => {
  t.notRegex(readme, /^(TOUR|COMMANDS|CONFIG)$|TEST_MINUTES/m);
});
