// The daemons' heap limits are set in two places that must agree: the systemd units (through Ansible's
// kafkalake_heap_mb) and `kafkalake up` / the test pipeline (DAEMON_HEAP_MB). A soak that ran the
// daemons without the units' limit once saw V8's lazy heap growth and took it for a leak.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { DAEMON_HEAP_MB, daemonArgs, UP_DAEMONS } from '../../daemons/cli/up.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';

test('Ansible sets the same heap limit per daemon as kafkalake up', (t) => {
  const defaults = readFileSync(path.join(PROJECT_ROOT, 'ansible/roles/kafkalake/defaults/main.yml'), 'utf8');
  const m = /^kafkalake_heap_mb:\s*\{([^}]*)\}/m.exec(defaults);
  t.truthy(m, 'kafkalake_heap_mb in ansible/roles/kafkalake/defaults/main.yml');
  const ansible: Record<string, number> = {};
  for (const kv of (m?.[1] ?? '').split(',')) {
    const [k = '', v = ''] = kv.split(':').map((x) => x.trim());
    ansible[k] = Number(v);
  }
  t.deepEqual(ansible, { ...DAEMON_HEAP_MB });
});

test('each unit starts its daemon with the heap limit of kafkalake_heap_mb', (t) => {
  for (const name of UP_DAEMONS) {
    const unit = readFileSync(path.join(PROJECT_ROOT, `systemd/kafkalake-${name}.service`), 'utf8');
    t.regex(unit, new RegExp(`^ExecStart=.* --max-old-space-size=\\{\\{ kafkalake_heap_mb\\['${name}'\\]`, 'm'), name);
    t.is(daemonArgs(name, [])[0], `--max-old-space-size=${DAEMON_HEAP_MB[name]}`);
  }
});
