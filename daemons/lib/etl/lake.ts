// Protocol v3 of the lake's write path (glue/README.md, "The write path, protocol v3"): what both
// executors share about a partition's state in the bucket — the run id and file names, generation
// folders, the manifest (a cache of each current file's key ranges), the retired generations waiting
// for deletion, and which files of a location the manifest knows. glue/etl_job.py writes the same.
import { createHash } from 'node:crypto';
import { KafkalakeError } from '../errors.js';
import type { TableSpec } from './spec.js';
import type { ObjectStore, StoredObject } from './store.js';

/** A key column's value as the manifest keeps it: numbers as numbers, dates and strings as text. */
export type KeyValue = string | number | null;

export interface ManifestFile {
  name: string;
  rows: number;
  bytes: number;
  min: KeyValue[];
  max: KeyValue[];
}

export interface Manifest {
  version: 1;
  table: string;
  values: Record<string, string>;
  generation: number;
  /** bucket-relative, ending in "/" */
  location: string;
  keyColumns: string[];
  files: ManifestFile[];
  updatedAt: string;
}

export interface RetiredGeneration {
  values: Record<string, string>;
  generation: number;
  location: string;
  files: string[];
  retiredAt: string;
}

interface RetiredList {
  version: 1;
  table: string;
  retired: RetiredGeneration[];
}

/** The columns a file's ranges are kept for: the business key, or the envelope for a table without one. */
export const keyColumns = (spec: TableSpec): string[] => (spec.businessKey.length ? [...spec.businessKey] : ['_topic', '_partition', '_offset']);

/** The first 12 hex digits of SHA-256 over the names, sorted, joined by "\n". */
export function runId(names: string[]): string {
  return createHash('sha256').update([...names].sort().join('\n')).digest('hex').slice(0, 12);
}

export const partFileName = (run: string, n: number) => `part-${run}-${String(n).padStart(5, '0')}.snappy.parquet`;

/** The partition's folder (generation 0's location), its values as folder names hold them. */
export function partitionFolder(spec: TableSpec, values: Record<string, string>): string {
  return spec.partitionBy.length ? `${spec.target.prefix}${spec.partitionBy.map((p) => `${p}=${values[p]}`).join('/')}/` : spec.target.prefix;
}

export const generationLocation = (folder: string, generation: number) => (generation === 0 ? folder : `${folder}_v${String(generation).padStart(6, '0')}/`);

/** The generation a location is: 0 for the partition folder, N for its _vNNNNNN/ folder. */
export function generationOf(folder: string, location: string): number {
  if (location === folder) return 0;
  const m = /^_v(\d{6})\/$/.exec(location.slice(folder.length));
  if (!location.startsWith(folder) || !m) throw new KafkalakeError(`the partition location ${location} is neither ${folder} nor a generation folder below it`, { where: location });
  return Number(m[1]);
}

export const manifestKey = (spec: TableSpec, values: Record<string, string>) =>
  spec.partitionBy.length ? `_state/lake/${spec.table}/${spec.partitionBy.map((p) => `${p}=${values[p]}`).join('/')}.json` : `_state/lake/${spec.table}/_table.json`;
/** The partition values a manifest key names (the inverse of manifestKey); undefined for other keys. */
export function manifestValues(spec: TableSpec, key: string): Record<string, string> | undefined {
  const prefix = `_state/lake/${spec.table}/`;
  if (!key.startsWith(prefix) || !key.endsWith('.json')) return undefined;
  const rel = key.slice(prefix.length, -'.json'.length);
  if (!spec.partitionBy.length) return rel === '_table' ? {} : undefined;
  const pairs = rel.split('/').map((kv): [string, string | undefined] => (kv.includes('=') ? [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] : [kv, undefined]));
  if (pairs.length !== spec.partitionBy.length || pairs.some(([k, v], i) => k !== spec.partitionBy[i] || v === undefined)) return undefined;
  return Object.fromEntries(pairs) as Record<string, string>;
}
export const retiredKey = (spec: TableSpec) => `_state/lake/${spec.table}/_retired.json`;

/** A path part below the location that starts with "_" or "." is hidden (as Hive and Athena list). */
export function visibleIn(location: string, key: string): boolean {
  if (!key.startsWith(location)) return false;
  const parts = key.slice(location.length).split('/');
  return parts.every((p) => p !== '' && !p.startsWith('_') && !p.startsWith('.'));
}

/** The data files directly in a location: what a reader of that location reads. */
export async function locationFiles(store: ObjectStore, location: string): Promise<StoredObject[]> {
  return (await store.list(location)).filter((o) => visibleIn(location, o.key) && !o.key.slice(location.length).includes('/') && o.key.endsWith('.parquet'));
}

/** A cache read: an unreadable one counts as missing (every file unknown: one rewrite), never trusted. */
async function readJson<T>(store: ObjectStore, key: string): Promise<T | undefined> {
  const got = await store.get(key);
  if (!got) return undefined;
  try {
    return JSON.parse(got.body.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

export async function readManifest(store: ObjectStore, spec: TableSpec, values: Record<string, string>): Promise<Manifest | undefined> {
  const m = await readJson<Manifest>(store, manifestKey(spec, values));
  return m && m.version === 1 && Array.isArray(m.files) && typeof m.location === 'string' ? m : undefined;
}

export async function writeManifest(store: ObjectStore, spec: TableSpec, m: Omit<Manifest, 'version' | 'table' | 'keyColumns' | 'updatedAt'>, now: Date): Promise<void> {
  const out: Manifest = {
    version: 1,
    table: spec.table,
    values: m.values,
    generation: m.generation,
    location: m.location,
    keyColumns: keyColumns(spec),
    files: [...m.files].sort((a, b) => (a.name < b.name ? -1 : 1)),
    updatedAt: now.toISOString(),
  };
  await store.put(manifestKey(spec, m.values), Buffer.from(`${JSON.stringify(out)}\n`));
}

/** Every current file of a table (`<location><name>`, sorted): what a reader following the pointers reads. */
export async function currentLakeFiles(store: ObjectStore, spec: TableSpec): Promise<string[]> {
  const out: string[] = [];
  for (const o of await store.list(`_state/lake/${spec.table}/`)) {
    const values = manifestValues(spec, o.key);
    const m = values && (await readManifest(store, spec, values));
    if (m) for (const f of m.files) out.push(m.location + f.name);
  }
  return out.sort();
}

export async function readRetired(store: ObjectStore, spec: TableSpec): Promise<RetiredGeneration[]> {
  const r = await readJson<RetiredList>(store, retiredKey(spec));
  return Array.isArray(r?.retired) ? r.retired : [];
}

export async function writeRetired(store: ObjectStore, spec: TableSpec, retired: RetiredGeneration[]): Promise<void> {
  const out: RetiredList = { version: 1, table: spec.table, retired };
  await store.put(retiredKey(spec), Buffer.from(`${JSON.stringify(out)}\n`));
}

/** The location's files split into those the manifest knows (same name and size) and the unknown ones. */
export function reconcile(listed: StoredObject[], location: string, manifest: Manifest | undefined): { known: ManifestFile[]; unknown: StoredObject[] } {
  const byName = new Map((manifest && manifest.location === location ? manifest.files : []).map((f) => [f.name, f]));
  const known: ManifestFile[] = [];
  const unknown: StoredObject[] = [];
  for (const o of listed) {
    const f = byName.get(o.key.slice(location.length));
    if (f && f.bytes === o.size) known.push(f);
    else unknown.push(o);
  }
  return { known, unknown };
}

/** The generation the next rewrite of a partition writes: above every one in use or awaiting deletion. */
export function nextGeneration(current: number, retired: RetiredGeneration[], values: Record<string, string>): number {
  const same = retired.filter((r) => sameValues(r.values, values)).map((r) => r.generation);
  return Math.max(current, ...same) + 1;
}

export const sameValues = (a: Record<string, string>, b: Record<string, string>) => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
};
