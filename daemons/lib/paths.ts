// Where the project lives on disk: compiled code runs from dist/daemons/..., sources from daemons/.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'daemons'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the kafkalake project root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The project root (the folder holding package.json and daemons/). */
export const PROJECT_ROOT = findRoot();

/** A path from config: absolute as is, relative to the project root otherwise. */
export function resolveFromRoot(p: string): string {
  return path.isAbsolute(p) ? p : path.join(PROJECT_ROOT, p);
}
