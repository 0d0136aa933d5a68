// The daemons' heap limits and CPU priorities are set in two places that must agree: the systemd units
// (through Ansible's kafkalake_heap_mb and kafkalake_nice) and `kafkalake up` / the test pipeline / the
// benchmarks (DAEMON_HEAP_MB, DAEMON_NICE). A soak that ran the daemons without the units' limit once saw
// V8's lazy heap growth and took it for a leak.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { DAEMON_HEAP_MB, DAEMON_NICE, daemonArgs, daemonCommand, UP_DAEMONS } from '../../daemons/cli/up.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';

/** a per-daemon dict of the role's defaults, e.g. `kafkalake_heap_mb: { producer: 256, ... }` */
function roleDict(name: string): Record<string, number> {
  const defaults = readFileSync(path.join(PROJECT_ROOT, 'ansible/roles/kafkalake/defaults/main.yml'), 'utf8');
  const m = new RegExp(`^${name}:\\s*\\{([^}]*)\\}`, 'm').exec(defaults);
  if (!m) throw new Error(`${name} is not in ansible/roles/kafkalake/defaults/main.yml`);
  const out: Record<string, number> = {};
  for (const kv of (m[1] ?? '').split(',')) {
    const [k = '', v = ''] = kv.split(':').map((x) => x.trim());
    out[k] = Number(v);
  }
  return out;
}

test('Ansible sets the same heap limit per daemon as kafkalake up', (t) => {
  t.deepEqual(roleDict('kafkalake_heap_mb'), { ...DAEMON_HEAP_MB });
});

test('Ansible sets the same priority per daemon as kafkalake up, and up starts a lowered one under nice', (t) => {
  t.deepEqual(roleDict('kafkalake_nice'), { ...DAEMON_NICE });
  t.true(DAEMON_NICE.producer > 0, 'the producer yields the CPU to the pipeline');
  for (const name of UP_DAEMONS) {
    const unit = readFileSync(path.join(PROJECT_ROOT, `systemd/kafkalake-${name}.service`), 'utf8');
    t.regex(unit, new RegExp(`^Nice=\\{\\{ kafkalake_nice\\['${name}'\\] \\| default\\(0\\) \\}\\}$`, 'm'), name);
    t.regex(unit, new RegExp(`^CPUWeight=\\{\\{ .*kafkalake_nice\\['${name}'\\].* \\}\\}$`, 'm'), name);
    const cmd = daemonCommand(name, ['--config', 'F']);
    if (DAEMON_NICE[name]) t.deepEqual([cmd.command, ...cmd.args.slice(0, 3)], ['nice', '-n', String(DAEMON_NICE[name]), process.execPath], name);
    else t.is(cmd.command, process.execPath, name);
    t.deepEqual(cmd.args.slice(-3), [name, '--config', 'F']);
  }
});

test('each unit starts its daemon with the heap limit of kafkalake_heap_mb', (t) => {
  for (const name of UP_DAEMONS) {
    const unit = readFileSync(path.join(PROJECT_ROOT, `systemd/kafkalake-${name}.service`), 'utf8');
    t.regex(unit, new RegExp(`^ExecStart=.* --max-old-space-size=\\{\\{ kafkalake_heap_mb\\['${name}'\\]`, 'm'), name);
    t.is(daemonArgs(name, [])[0], `--max-old-space-size=${DAEMON_HEAP_MB[name]}`);
  }
});
