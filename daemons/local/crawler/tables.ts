// One table of a crawl: reconcile the objects read this time into the table's model (format and
// partition layout fixed by the first crawl or the majority, schemas merged with widening), then
// bring the catalog in line as the schema change policy and the delete behaviour say.
import type { PartitionInput } from '@aws-sdk/client-glue';
import type { Bucket } from '../../lib/catalog/objects.js';
import type { GlueCatalog } from '../../lib/catalog/glue-catalog.js';
import { type Column, storageDescriptor, tableInput, type TableModel } from '../../lib/catalog/shapes.js';
import type { Logger } from '../../lib/log.js';
import type { CrawlReport, DeleteBehavior, SchemaChangePolicy } from './crawler.js';
import { type CrawlTarget, place } from './layout.js';
import type { ReadObject } from './reader.js';
import type { CrawlState, TableEntry } from './state.js';
import { describeChange, mergeColumns, sameColumns } from './types.js';

export interface TableOutcome {
  entry?: TableEntry;
  skipped: Array<{ key: string; reason: string }>;
}

const keysOf = (folders: readonly string[]) => folders.map((f, i) => (f.indexOf('=') > 0 ? f.slice(0, f.indexOf('=')).toLowerCase() : `partition_${i}`));
const valuesOf = (folders: readonly string[]) => folders.map((f) => decodeURIComponent(f.indexOf('=') > 0 ? f.slice(f.indexOf('=') + 1) : f));

function majority<T>(items: T[], key: (t: T) => string): string | undefined {
  const counts = new Map<string, number>();
  for (const i of items) counts.set(key(i), (counts.get(key(i)) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

export function reconcileTable(state: CrawlState, table: string, fresh: Array<{ key: string; target: CrawlTarget; read: ReadObject }>): TableOutcome {
  const skipped: TableOutcome['skipped'] = [];
  let entry = state.tables[table];
  const folders = (key: string) => state.objects[key]?.folders ?? [];
  if (!entry) {
    const first = fresh[0];
    if (!first) return { skipped };
    const format = majority(fresh, (f) => f.read.format) as ReadObject['format'];
    const layout = majority(fresh, (f) => keysOf(folders(f.key)).join('/')) ?? '';
    const model = fresh.find((f) => f.read.format === format)!.read;
    entry = {
      target: first.target.path,
      tablePath: place(first.target, first.key).tablePath,
      format,
      compression: model.compression,
      ...(model.delimiter ? { delimiter: model.delimiter } : {}),
      ...(model.header !== undefined ? { header: model.header } : {}),
      columns: [],
      partitionKeys: layout ? layout.split('/') : [],
      partitions: [],
    };
  } else {
    entry = { ...entry, columns: entry.columns.map((c) => ({ ...c })), partitions: [...entry.partitions] };
  }
  let columns: Column[] = entry.columns;
  for (const f of fresh) {
    const layout = keysOf(folders(f.key));
    let reason: string | undefined;
    if (f.read.format !== entry.format) reason = `classified ${f.read.format}, but table ${table} is ${entry.format}: not added`;
    else if (layout.join('/') !== entry.partitionKeys.join('/')) {
      const want = entry.partitionKeys.length ? entry.partitionKeys.map((k) => `${k}=…`).join('/') : 'no partition folders';
      reason = `folders "${folders(f.key).join('/')}" do not match table ${table}'s partition layout (${want}): not added`;
    }
    if (reason) {
      const o = state.objects[f.key]!;
      state.objects[f.key] = { etag: o.etag, size: o.size, skipped: reason };
      skipped.push({ key: f.key, reason });
      continue;
    }
    columns = mergeColumns(columns, f.read.columns);
  }
  entry.columns = columns;
  return { entry, skipped };
}

export interface WriteTableArgs {
  catalog: GlueCatalog;
  state: CrawlState;
  table: string;
  entry: TableEntry;
  bucket: Bucket;
  crawler: string;
  policy: SchemaChangePolicy;
  deletes: DeleteBehavior;
  report: CrawlReport;
  log: Logger;
  now: () => Date;
}

export async function writeTable(a: WriteTableArgs): Promise<void> {
  const { catalog, state, table, entry, bucket, report } = a;
  const objects = Object.values(state.objects).filter((o) => o.table === table && !o.skipped);
  const location = bucket.uri(entry.tablePath);
  state.tables[table] = entry;
  if (entry.columns.length === 0 && objects.length === 0 && !(await catalog.getTable(table))) {
    delete state.tables[table];
    return;
  }
  if (objects.length === 0) {
    if (entry.deprecated) return;
    if (a.deletes === 'LOG') {
      report.logged.push(`table ${table}: no objects left under ${location} (delete behaviour LOG: table kept)`);
    } else {
      const cur = await catalog.getTable(table);
      if (cur) {
        await catalog.updateTable({ ...tableInputOf(cur), Parameters: { ...cur.Parameters, DEPRECATED_BY_CRAWLER: a.now().toISOString() } });
        report.tablesDeprecated.push(table);
      }
    }
    entry.deprecated = true;
    return;
  }
  entry.deprecated = false;
  const model: TableModel = {
    name: table,
    format: entry.format,
    compression: entry.compression,
    ...(entry.delimiter ? { delimiter: entry.delimiter } : {}),
    ...(entry.header !== undefined ? { header: entry.header } : {}),
    columns: entry.columns,
    partitionKeys: entry.partitionKeys,
    location,
    objectCount: objects.length,
    recordCount: objects.reduce((n, o) => n + (o.rows ?? 0), 0),
    sizeBytes: objects.reduce((n, o) => n + o.size, 0),
  };
  const cur = await catalog.getTable(table);
  let partitionColumns = model.columns;
  if (!cur) {
    await catalog.createTable(tableInput(model, a.crawler));
    report.tablesCreated.push(table);
  } else {
    const catCols = (cur.StorageDescriptor?.Columns ?? []).map((c) => ({ Name: c.Name ?? '', Type: c.Type ?? '' }));
    const catFormat = cur.Parameters?.classification;
    if (sameColumns(catCols, model.columns) && catFormat === model.format) {
      report.tablesUnchanged.push(table);
    } else if (a.policy === 'UPDATE_IN_DATABASE') {
      await catalog.updateTable(tableInput(model, a.crawler));
      report.tablesUpdated.push(table);
      a.log.info('table schema updated', { table, change: describeChange(catCols, model.columns) });
    } else {
      partitionColumns = catCols;
      const line = `table ${table}: schema change not applied (policy LOG): ${describeChange(catCols, model.columns)}`;
      report.logged.push(line);
      a.log.warn('schema change not applied', { table, change: describeChange(catCols, model.columns) });
    }
  }

  // partitions: add the new ones, handle the ones whose objects are all gone
  if (entry.partitionKeys.length === 0) return;
  const present = [...new Set(objects.map((o) => (o.folders ?? []).join('/')))].sort();
  const known = new Set(entry.partitions);
  const added = present.filter((p) => !known.has(p));
  if (added.length) {
    const sdModel = { ...model, columns: partitionColumns };
    const inputs: PartitionInput[] = added.map((p) => ({
      Values: valuesOf(p.split('/')),
      StorageDescriptor: storageDescriptor(sdModel, bucket.uri(`${entry.tablePath}${p}/`)),
      Parameters: { ...storageDescriptor(sdModel, '').Parameters },
    }));
    const res = await catalog.createPartitions(table, inputs);
    report.partitionsAdded += res.created;
    for (const f of res.failed) report.logged.push(`table ${table}: partition ${f.values.join('/')} not created: ${f.reason}`);
    const failed = new Set(res.failed.map((f) => f.values.join('/')));
    for (const p of added) if (!failed.has(valuesOf(p.split('/')).join('/'))) known.add(p);
  }
  const presentSet = new Set(present);
  for (const p of [...known]) {
    if (presentSet.has(p)) continue;
    // a partition the ETL moved to a generation folder (glue/README.md, protocol v3) is the ETL's: its
    // old folder empties after the retention, which is no deletion
    const cur = await catalog.getPartition(table, valuesOf(p.split('/')));
    const loc = cur?.StorageDescriptor?.Location;
    if (loc && loc.replace(/\/?$/, '/') !== bucket.uri(`${entry.tablePath}${p}/`)) continue;
    known.delete(p);
    if (a.deletes === 'LOG') {
      report.logged.push(`table ${table}: partition ${p} has no objects left (delete behaviour LOG: partition kept)`);
    } else {
      const sd = storageDescriptor({ ...model, columns: partitionColumns }, bucket.uri(`${entry.tablePath}${p}/`));
      await catalog.updatePartition(table, valuesOf(p.split('/')), { Values: valuesOf(p.split('/')), StorageDescriptor: sd, Parameters: { ...sd.Parameters, DEPRECATED_BY_CRAWLER: a.now().toISOString() } });
      report.logged.push(`table ${table}: partition ${p} has no objects left: marked DEPRECATED_BY_CRAWLER`);
    }
  }
  entry.partitions = [...known].sort();
}

/** A catalog Table back into the TableInput UpdateTable takes (read-only fields dropped). */
function tableInputOf(t: NonNullable<Awaited<ReturnType<GlueCatalog['getTable']>>>) {
  return {
    Name: t.Name!,
    TableType: t.TableType,
    Owner: t.Owner,
    Retention: t.Retention,
    StorageDescriptor: t.StorageDescriptor,
    PartitionKeys: t.PartitionKeys,
    Parameters: t.Parameters,
  };
}
