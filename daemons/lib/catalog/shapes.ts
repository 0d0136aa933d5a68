// The table and partition shapes a Glue crawler writes for each classification, so Athena (and
// Hive, Spark) read the catalogued data the same way: SerDe, input/output format, location,
// partition keys and the crawler's table parameters. Shared by kafkalake's crawler
// (daemons/local/crawler) and the tables `kafkalake bootstrap` makes from sql/ddl (ddl.ts).
import type { StorageDescriptor, TableInput } from '@aws-sdk/client-glue';

/** an object's classification, as Glue's built-in classifiers name it (local/crawler/classify.ts judges it) */
export type Format = 'parquet' | 'json' | 'csv';
export type Compression = 'none' | 'gzip';

/** a column as the catalog holds it: name and Glue (Hive) type */
export interface Column {
  Name: string;
  Type: string;
}

export interface TableModel {
  name: string;
  format: Format;
  compression: Compression;
  delimiter?: string;
  header?: boolean;
  columns: Column[];
  partitionKeys: string[];
  /** s3://bucket/prefix/ */
  location: string;
  objectCount: number;
  recordCount: number;
  sizeBytes: number;
}

const PARQUET = {
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe', Parameters: { 'serialization.format': '1' } },
};
const TEXT = {
  InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
};

function formatParams(t: TableModel): Record<string, string> {
  const p: Record<string, string> = { classification: t.format, compressionType: t.compression, typeOfData: 'file' };
  if (t.format === 'csv') {
    p.delimiter = t.delimiter ?? ',';
    p.areColumnsQuoted = 'false';
    if (t.header) p['skip.header.line.count'] = '1';
  }
  return p;
}

export function storageDescriptor(t: TableModel, location: string): StorageDescriptor {
  const serde: Pick<StorageDescriptor, 'InputFormat' | 'OutputFormat' | 'SerdeInfo'> =
    t.format === 'parquet'
      ? PARQUET
      : t.format === 'json'
        ? { ...TEXT, SerdeInfo: { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe', Parameters: { paths: t.columns.map((c) => c.Name).join(',') } } }
        : { ...TEXT, SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe', Parameters: { 'field.delim': t.delimiter ?? ',' } } };
  return {
    Columns: t.columns.map((c) => ({ Name: c.Name, Type: c.Type })),
    Location: location,
    ...serde,
    Compressed: t.compression !== 'none',
    NumberOfBuckets: -1,
    BucketColumns: [],
    SortColumns: [],
    StoredAsSubDirectories: false,
    Parameters: formatParams(t),
  };
}

export function tableInput(t: TableModel, crawler: string): TableInput {
  return {
    Name: t.name,
    TableType: 'EXTERNAL_TABLE',
    Owner: 'owner',
    Retention: 0,
    StorageDescriptor: storageDescriptor(t, t.location),
    // partition values are folder names: Glue catalogues them as strings
    PartitionKeys: t.partitionKeys.map((k) => ({ Name: k, Type: 'string' })),
    Parameters: {
      ...formatParams(t),
      UPDATED_BY_CRAWLER: crawler,
      CrawlerSchemaDeserializerVersion: '1.0',
      CrawlerSchemaSerializerVersion: '1.0',
      objectCount: String(t.objectCount),
      recordCount: String(t.recordCount),
      sizeKey: String(t.sizeBytes),
      averageRecordSize: t.recordCount > 0 ? String(Math.round(t.sizeBytes / t.recordCount)) : '0',
      EXTERNAL: 'TRUE',
    },
  };
}
