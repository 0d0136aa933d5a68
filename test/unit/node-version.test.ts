// One Node.js for kafkalake: 24 LTS (20 is past its end of life). The suite itself runs on it (npm test
// goes through daemons/local/with-node.sh), set-up's pinned version is the hosts' kafkalake_node_version,
// and a bundle whose native modules were built for another major than the hosts run is refused.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';

const read = (f: string) => readFileSync(path.join(PROJECT_ROOT, f), 'utf8');
const setupVersion = () => /^NODE_VERSION=(\S+)$/m.exec(read('daemons/local/setup.sh'))?.[1];

test('the suite runs on Node.js 24 or newer', (t) => {
  t.true(Number(process.versions.node.split('.')[0]) >= 24, `running on ${process.version}: npm test runs ava through daemons/local/with-node.sh`);
});

test('set-up, the hosts, engines and @types/node name the same Node.js', (t) => {
  const setup = setupVersion();
  t.regex(setup ?? '', /^24\.\d+\.\d+$/);
  t.is(/^kafkalake_node_version: "([^"]+)"$/m.exec(read('ansible/roles/kafkalake/defaults/main.yml'))?.[1], setup);
  const pkg = JSON.parse(read('package.json')) as { engines: { node: string }; devDependencies: Record<string, string> };
  t.is(pkg.engines.node, '>=24');
  t.regex(pkg.devDependencies['@types/node'] ?? '', /^\^24\./);
});

test('with-node.sh runs a command on the node set-up chose', (t) => {
  const v = execFileSync('sh', [path.join(PROJECT_ROOT, 'daemons/local/with-node.sh'), 'node', '--version'], { encoding: 'utf8', env: { ...process.env, PATH: '/usr/bin:/bin' } }).trim();
  t.true(Number(v.replace(/^v/, '').split('.')[0]) >= 24, v);
});

function fakeSource(builtWith: string): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-bundle-'));
  mkdirSync(path.join(d, 'dist/daemons/cli'), { recursive: true });
  writeFileSync(path.join(d, 'dist/daemons/cli/main.js'), '');
  writeFileSync(path.join(d, 'package.json'), '{"name":"fake","version":"1.0.0"}');
  mkdirSync(path.join(d, 'node_modules/@confluentinc/kafka-javascript/build/Release'), { recursive: true });
  writeFileSync(path.join(d, 'node_modules/.package-lock.json'), '{"name":"fake","version":"1.0.0","lockfileVersion":3,"packages":{}}');
  writeFileSync(path.join(d, 'node_modules/.kafkalake-node'), `${builtWith}\n`);
  return d;
}

test('build-bundle.sh refuses native modules built for another Node.js major than the hosts run, in one line', (t) => {
  const bundle = (builtWith: string) => {
    const d = fakeSource(builtWith);
    try {
      return spawnSync('sh', [path.join(PROJECT_ROOT, 'ansible/roles/kafkalake/files/build-bundle.sh'), d, path.join(d, 'out/b.tar.gz'), 'false', '24.22.3'], { encoding: 'utf8' });
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  };
  const old = bundle('v20.20.2');
  t.is(old.status, 1);
  const line = old.stderr.trim();
  t.false(line.includes('\n'), line);
  t.regex(line, /^build-bundle: .*node_modules was built with node v20\.20\.2, the hosts run Node\.js 24\.22\.3 \(kafkalake_node_version\)/);
  const same = bundle('v24.1.0');
  t.is(same.status, 0, same.stderr);
  t.is(same.stdout.trim().split('\n').pop(), 'changed');
});
