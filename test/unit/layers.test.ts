// The layers of daemons/ (DESIGN.md, "Layout") stay layers: lib/ is what everything shares and imports
// nothing above it; local/ (the local stack and engines) builds on lib/ only; jobs/ picks the engine of
// each job by mode, over lib/ and local/; the daemons use all three but not the CLI nor each other;
// cli/ may use anything, and so may console/ (the CLI's web page). A relative import or export-from (static or `import()`) that climbs a layer
// fails here, naming the file and the import.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';

const BELOW_DAEMONS = ['lib', 'local', 'jobs'];

/** each folder of daemons/ → the folders its modules may import from (its own included) */
const ALLOWED: Record<string, readonly string[]> = {
  lib: ['lib'],
  local: ['lib', 'local'],
  jobs: ['lib', 'local', 'jobs'],
  producer: [...BELOW_DAEMONS, 'producer'],
  consumer: [...BELOW_DAEMONS, 'consumer'],
  scheduler: [...BELOW_DAEMONS, 'scheduler'],
  cli: ['lib', 'local', 'jobs', 'producer', 'consumer', 'scheduler', 'cli', 'console'],
  // the console is the CLI's web face: `kafkalake console` serves it, and it shows what `status` gathers
  console: ['lib', 'local', 'jobs', 'producer', 'consumer', 'scheduler', 'cli', 'console'],
};

/** The module specifiers a source imports: `import … from`, `export … from`, `import '…'`, `import('…')`. */
export function importsOf(source: string): string[] {
  const from = /^\s*(?:import|export)\b[^;'"(=]*?\bfrom\s*['"]([^'"]+)['"]/gm;
  const bare = /^\s*import\s*['"]([^'"]+)['"]/gm;
  const dynamic = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  return [...source.matchAll(from), ...source.matchAll(bare), ...source.matchAll(dynamic)].map((m) => m[1]!);
}

function sources(dir: string): string[] {
  return readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(rel);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

/** The folder of daemons/ a path (relative to the project root) is in. */
const layerOf = (rel: string) => (rel.startsWith('daemons/') ? rel.split('/')[1]! : rel.split('/')[0]!);

interface Edge {
  file: string;
  spec: string;
  from: string;
  to: string;
}

function edges(): Edge[] {
  return sources('daemons').flatMap((file) =>
    importsOf(readFileSync(path.join(PROJECT_ROOT, file), 'utf8'))
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => ({ file, spec, from: layerOf(file), to: layerOf(path.posix.join(path.posix.dirname(file), spec)) })),
  );
}

test('the import scan reads static, multi-line, export-from, side-effect and dynamic imports', (t) => {
  const src = [
    "import { a,\n  b } from '../lib/a.js';",
    "import type { C } from './c.js';",
    "export { d } from '../jobs/d.js';",
    "import './side.js';",
    "const e = await import('../cli/e.js');",
    "// a comment naming from '../local/x.js' is not an import",
    "const s = 'import from nowhere';",
  ].join('\n');
  t.deepEqual(importsOf(src).sort(), ['../cli/e.js', '../jobs/d.js', '../lib/a.js', './c.js', './side.js']);
});

test('every folder of daemons/ has its place in the layers', (t) => {
  const folders = readdirSync(path.join(PROJECT_ROOT, 'daemons'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  for (const f of folders) {
    if (!sources(`daemons/${f}`).length) continue;
    t.truthy(ALLOWED[f], `daemons/${f}/ is in no layer: add it to ALLOWED in test/unit/layers.test.ts (what may it import, and who may import it?)`);
  }
});

test('no module imports a layer above its own: lib/ never imports local/, jobs/, cli/ or a daemon; local/ never jobs/ or cli/; the daemons never cli/', (t) => {
  const all = edges();
  t.true(all.filter((e) => e.from !== e.to).length > 100, `the scan found the cross-folder imports (${all.length} relative imports in all)`);
  const wrong = all.filter((e) => !ALLOWED[e.from]?.includes(e.to)).map((e) => `${e.file} imports ${e.spec} (${e.from}/ must not import ${e.to}/)`);
  t.deepEqual(wrong, [], "imports that climb a layer (file imports specifier)");
});
