// Where readers read a lake partition, and the one switch that moves them (glue/README.md, "The
// pointer"). With a catalog the Glue partition's Location is the truth: a new partition is added with
// BatchCreatePartition, a new generation committed with one UpdatePartition. Without one (a directory
// root: benchmarks, the equivalence test) the manifest's location is the pointer and writing the
// manifest is the commit.
import type { StorageDescriptor } from '@aws-sdk/client-glue';
import type { GlueCatalog } from '../catalog/glue-catalog.js';
import { parseS3Uri } from '../catalog/objects.js';
import { KafkalakeError } from '../errors.js';
import type { Manifest } from './lake.js';
import type { TableSpec } from './spec.js';

export interface PartitionPointer {
  /** the partition's location as readers find it; undefined: readers have none yet */
  current(values: Record<string, string>, manifest: Manifest | undefined): Promise<string | undefined>;
  /** make `location` the partition's (isNew: readers had none) */
  commit(values: Record<string, string>, location: string, isNew: boolean): Promise<void>;
}

/** A pointer made on first use (a run with nothing to write then asks the catalog nothing). */
export function lazyPointer(make: () => Promise<PartitionPointer>): PartitionPointer {
  let made: Promise<PartitionPointer> | undefined;
  const get = () => (made ??= make());
  return {
    current: async (values, manifest) => (await get()).current(values, manifest),
    commit: async (values, location, isNew) => (await get()).commit(values, location, isNew),
  };
}

export const manifestPointer = (): PartitionPointer => ({
  current: async (_values, manifest) => manifest?.location,
  commit: async () => {},
});

/**
 * The Glue catalog as the pointer. `tableInput` makes the lake table when it is missing (from
 * sql/ddl/<table>.sql: the catalog's shape of the spec), so the ETL's partitions have a table to join.
 */
export async function catalogPointer(opts: {
  catalog: GlueCatalog;
  bucket: string;
  spec: TableSpec;
  tableInput: () => Parameters<GlueCatalog['createTable']>[0];
}): Promise<PartitionPointer> {
  const { catalog, bucket, spec } = opts;
  await catalog.ensureDatabase('kafkalake: staging, lake and DLQ tables');
  let table = await catalog.getTable(spec.table);
  if (!table) {
    await catalog.createTableIfMissing(opts.tableInput());
    table = await catalog.getTable(spec.table);
  }
  const keys = (table?.PartitionKeys ?? []).map((k) => k.Name);
  if (keys.join(',') !== spec.partitionBy.join(',')) {
    throw new KafkalakeError(`the lake table's partition keys are (${keys.join(', ')}), the ETL spec's (${spec.partitionBy.join(', ')})`, { where: `glue ${catalog.database}.${spec.table}` });
  }
  const sd: StorageDescriptor = table?.StorageDescriptor ?? {};
  const valuesOf = (values: Record<string, string>) => spec.partitionBy.map((p) => values[p]!);
  const input = (values: Record<string, string>, location: string) => ({ Values: valuesOf(values), StorageDescriptor: { ...sd, Location: `s3://${bucket}/${location}` } });
  return {
    async current(values) {
      const p = await catalog.getPartition(spec.table, valuesOf(values));
      const loc = parseS3Uri(p?.StorageDescriptor?.Location ?? '');
      if (!p) return undefined;
      if (!loc || loc.bucket !== bucket) throw new KafkalakeError(`partition ${valuesOf(values).join('/')} is located at ${p.StorageDescriptor?.Location ?? 'nowhere'}, not in s3://${bucket}/`, { where: `glue ${catalog.database}.${spec.table}` });
      return loc.key.endsWith('/') ? loc.key : `${loc.key}/`;
    },
    async commit(values, location, isNew) {
      if (isNew) {
        const r = await catalog.createPartitions(spec.table, [input(values, location)]);
        if (r.existed === 0 && r.created === 1) return;
        if (r.failed.length) throw new KafkalakeError(`cannot add partition ${valuesOf(values).join('/')}: ${r.failed[0]!.reason}`, { where: `glue ${catalog.database}.${spec.table}` });
      }
      // an existing partition, or one the crawler added meanwhile: one switch of its location
      await catalog.updatePartition(spec.table, valuesOf(values), input(values, location));
    },
  };
}
