// What a query reads, as Athena would see it: each referenced table's columns and format from the
// Glue catalog, its files under the table location (unpartitioned) or under the locations of its
// registered partitions (partitioned: an unregistered folder is not read, as in Athena) or, for a table
// with partition projection, under the folders the projection allows (projection.ts); and the cache
// that holds a local copy of each object, keyed by its ETag.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Table } from '@aws-sdk/client-glue';
import { type Bucket, parseS3Uri, pool } from '../../lib/catalog/objects.js';
import type { GlueCatalog } from '../../lib/catalog/glue-catalog.js';
import type { Column } from '../../lib/catalog/shapes.js';
import { KafkalakeError } from '../../lib/errors.js';
import { visibleIn } from '../../lib/etl/lake.js';
import { isHidden } from '../crawler/layout.js';
import { projectionOf } from './projection.js';

export interface SourceFile {
  key: string;
  etag: string;
  /** partition values, in the table's partition key order */
  values: string[];
  /** the local copy */
  file: string;
  /** Athena's hidden columns: "$path" (the object's s3:// URI) and "$file_size" (its bytes) */
  uri: string;
  size: number;
}

export interface TableSource {
  name: string;
  format: 'parquet' | 'json' | 'csv';
  delimiter: string;
  header: boolean;
  columns: Column[];
  partitionKeys: Column[];
  files: SourceFile[];
}

function formatOf(t: Table): TableSource['format'] {
  const serde = t.StorageDescriptor?.SerdeInfo?.SerializationLibrary ?? '';
  const cls = (t.Parameters?.classification ?? '').toLowerCase();
  if (serde.includes('Parquet') || cls === 'parquet') return 'parquet';
  if (serde.toLowerCase().includes('json') || cls === 'json') return 'json';
  if (serde.includes('LazySimpleSerDe') || serde.includes('OpenCSVSerde') || cls === 'csv') return 'csv';
  throw new KafkalakeError(`table ${t.Name} is stored as ${serde || cls || 'an unknown format'}: the local engine reads Parquet, JSON and CSV tables`, { where: `glue table ${t.Name}` });
}

const cols = (list: Array<{ Name?: string; Type?: string }> | undefined): Column[] => (list ?? []).map((c) => ({ Name: c.Name ?? '', Type: c.Type ?? 'string' }));

function cacheName(bucket: string, key: string, etag: string): string {
  const base = key.slice(key.lastIndexOf('/') + 1);
  const ext = base.includes('.') ? base.slice(base.indexOf('.')) : '';
  return `${createHash('sha1').update(`${bucket}/${key}`).digest('hex').slice(0, 16)}-${etag.replace(/[^A-Za-z0-9-]/g, '')}${ext}`;
}

/** Where the cache keeps its copies of the objects: the one directory a query may read (pruned by cache.ts: never while a recent snapshot names them). */
export const objectsDir = (cacheDir: string) => path.join(path.resolve(cacheDir), 'objects');

export async function resolveSources(catalog: GlueCatalog, bucket: Bucket, tables: Table[], cacheDir: string): Promise<TableSource[]> {
  const objDir = objectsDir(cacheDir);
  await mkdir(objDir, { recursive: true });
  const out: TableSource[] = [];
  for (const t of tables) {
    const name = t.Name ?? '';
    const loc = parseS3Uri(t.StorageDescriptor?.Location ?? '');
    if (!loc) throw new KafkalakeError(`table ${name} has no s3:// location`, { where: `glue table ${name}` });
    if (loc.bucket !== bucket.name) throw new KafkalakeError(`table ${name} is in bucket ${loc.bucket}: the local engine reads ${bucket.name} only`, { where: `glue table ${name}` });
    const partitionKeys = cols(t.PartitionKeys);
    const prefix = loc.key.endsWith('/') || loc.key === '' ? loc.key : `${loc.key}/`;
    // the partitions' locations first, then the listing, as Athena plans: a location the ETL switched to
    // holds all its files before the switch (and keeps them for etl.retainMinutes after the next one), so
    // a listing made after reading the pointer finds them; listed first, a switch in between would hide
    // the partition's new files from this query
    // a projected table (staging, DLQ): its folders, as Athena computes them, not the catalog's partitions
    const projection = projectionOf(name, t.Parameters, partitionKeys.map((k) => k.Name), prefix);
    const parts =
      partitionKeys.length === 0 || projection
        ? []
        : (await catalog.getPartitions(name))
            .map((p) => ({ loc: parseS3Uri(p.StorageDescriptor?.Location ?? ''), values: p.Values ?? [] }))
            .filter((p): p is { loc: { bucket: string; key: string }; values: string[] } => p.loc !== undefined)
            .map((p) => ({ prefix: p.loc.key.endsWith('/') ? p.loc.key : `${p.loc.key}/`, values: p.values }));
    // Athena's listing: a name below the location starting with _ or . is hidden, so are the ETL's
    // generation folders (_vNNNNNN/) to a reader of an older location
    const listed = (await bucket.list(prefix)).filter((o) => !isHidden(o.key) && o.size > 0);
    const file = (o: (typeof listed)[number], values: string[]): SourceFile => ({ key: o.key, etag: o.etag, values, file: path.join(objDir, cacheName(bucket.name, o.key, o.etag)), uri: bucket.uri(o.key), size: o.size });
    let files: SourceFile[];
    if (partitionKeys.length === 0) {
      files = listed.filter((o) => visibleIn(prefix, o.key)).map((o) => file(o, []));
    } else if (projection) {
      files = listed.flatMap((o) => {
        const values = projection.values(o.key);
        return values ? [file(o, values)] : [];
      });
    } else {
      files = [];
      for (const o of listed) {
        const p = parts.find((q) => visibleIn(q.prefix, o.key));
        if (p) files.push(file(o, p.values));
      }
    }
    files.sort((a, b) => a.key.localeCompare(b.key));
    out.push({
      name,
      format: formatOf(t),
      delimiter: t.StorageDescriptor?.SerdeInfo?.Parameters?.['field.delim'] ?? t.Parameters?.delimiter ?? ',',
      header: (t.Parameters?.['skip.header.line.count'] ?? '0') !== '0',
      columns: cols(t.StorageDescriptor?.Columns),
      partitionKeys,
      files,
    });
  }
  return out;
}

/** Download the objects the cache lacks (a changed object has a new ETag, so a new name). */
export async function fillCache(bucket: Bucket, sources: TableSource[], concurrency = 8): Promise<number> {
  const missing = sources.flatMap((s) => s.files).filter((f) => !existsSync(f.file));
  await pool(missing, concurrency, (f) => bucket.download(f.key, f.file));
  return missing.length;
}

/** A name for the loaded data: changes when a table's definition or any of its objects does. */
export function snapshotId(database: string, sources: TableSource[], version: string): string {
  const h = createHash('sha256').update(version).update(database);
  for (const s of sources) h.update(JSON.stringify([s.name, s.format, s.delimiter, s.header, s.columns, s.partitionKeys, s.files.map((f) => [f.key, f.etag, f.values])]));
  return h.digest('hex').slice(0, 24);
}
