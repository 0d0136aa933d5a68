// The local SQL engine's cache (reports.cacheDir), and how it stays bounded:
//   objects/<hash of bucket/key>-<etag>.<ext>  a copy of each lake object a query read (a rewritten object
//                                              has a new ETag, so a new name: a copy is never stale)
//   db/<snapshot id>.duckdb                    a snapshot database over some of them (build.ts)
//   db/<snapshot id>.files                     its manifest: the object files it reads
// The lake keeps changing (every ETL run appends, every compaction rewrites), so without pruning the cache
// would hold every generation of every file ever queried. Pruning, after each snapshot is built:
//   - a snapshot beyond the newest `keep` is deleted (a query that opened it keeps reading it: Linux
//     frees an open file's blocks only when it is closed);
//   - its manifest stays for `graceMs` after the snapshot was last opened (queries touch it), so the
//     objects a running query reads through a view stay until it is surely done;
//   - an object no remaining manifest names is deleted once untouched for `graceMs` (building a snapshot
//     touches each object it reads, downloaded or not, so another process's build in progress keeps its
//     objects), and so is a build's leftover (db/*.tmp-*) as old.
import { readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** How long an object outlives the last snapshot that named it (and a manifest its last query). */
export const CACHE_GRACE_MS = 60 * 60_000;

const manifestOf = (snapshot: string) => snapshot.replace(/\.duckdb$/, '.files');

/** Record which object files a snapshot reads (written before the snapshot, so never missing beside it). */
export async function writeManifest(snapshot: string, objectFiles: string[]): Promise<void> {
  await writeFile(manifestOf(snapshot), `${JSON.stringify(objectFiles.map((f) => path.basename(f)))}\n`);
}

/** Mark files as in use now (objects a build reads, the manifest of a snapshot a query opens). */
export async function touch(files: string[]): Promise<void> {
  const now = new Date();
  await Promise.all(files.map((f) => utimes(f, now, now).catch(() => undefined)));
}

/** Mark a snapshot as being read: its objects then outlive its deletion by the grace period. */
export const touchSnapshot = (snapshot: string) => touch([manifestOf(snapshot)]);

export interface Pruned {
  snapshots: number;
  objects: number;
  bytes: number;
}

async function ages(dir: string, names: string[]): Promise<Array<{ name: string; mtimeMs: number; size: number }>> {
  const out = await Promise.all(
    names.map(async (name) => {
      const s = await stat(path.join(dir, name)).catch(() => undefined);
      return s ? { name, mtimeMs: s.mtimeMs, size: s.size } : undefined;
    }),
  );
  return out.filter((x) => x !== undefined);
}

/** Keep the cache to what recent snapshots read (the rules above). `current` is the snapshot just built. */
export async function pruneCache(cacheDir: string, current: string, opts: { keep: number; graceMs: number; now?: number }): Promise<Pruned> {
  const now = opts.now ?? Date.now();
  const old = (t: number) => now - t > opts.graceMs;
  const dbDir = path.join(cacheDir, 'db');
  const objDir = path.join(cacheDir, 'objects');
  const pruned: Pruned = { snapshots: 0, objects: 0, bytes: 0 };
  const dbNames = await readdir(dbDir).catch(() => [] as string[]);

  const snapshots = (await ages(dbDir, dbNames.filter((n) => n.endsWith('.duckdb') && n !== path.basename(current)))).sort((a, b) => b.mtimeMs - a.mtimeMs);
  const gone = new Set<string>();
  for (const s of snapshots.slice(Math.max(0, opts.keep - 1))) {
    await rm(path.join(dbDir, s.name), { force: true });
    gone.add(s.name);
    pruned.snapshots++;
  }
  for (const t of await ages(dbDir, dbNames.filter((n) => n.includes('.tmp-')))) if (old(t.mtimeMs)) await rm(path.join(dbDir, t.name), { force: true });

  // the objects some manifest still names: its snapshot's, or a recent query's
  const live = new Set<string>();
  const present = new Set(dbNames.filter((n) => n.endsWith('.duckdb') && !gone.has(n)));
  present.add(path.basename(current));
  for (const m of await ages(dbDir, dbNames.filter((n) => n.endsWith('.files')))) {
    if (!present.has(m.name.replace(/\.files$/, '.duckdb')) && old(m.mtimeMs)) {
      await rm(path.join(dbDir, m.name), { force: true });
      continue;
    }
    const names = await readFile(path.join(dbDir, m.name), 'utf8').then((t) => JSON.parse(t) as string[], () => [] as string[]);
    for (const n of names) live.add(n);
  }
  const objects = await readdir(objDir).catch(() => [] as string[]);
  for (const o of await ages(objDir, objects.filter((n) => !live.has(n)))) {
    if (!old(o.mtimeMs)) continue;
    await rm(path.join(objDir, o.name), { force: true });
    pruned.objects++;
    pruned.bytes += o.size;
  }
  return pruned;
}
