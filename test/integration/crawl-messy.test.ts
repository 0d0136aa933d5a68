// The local crawler on messy input, each case in its own bucket and Glue database: mixed formats in
// one table folder, a schema that gains a column, an int that becomes a double (Parquet and JSON),
// a corrupt and a truncated Parquet object, an empty object, folder names that are not k=v, CSV
// with a header, the LOG schema change policy and both delete behaviours.
import test from 'ava';
import { GetPartitionsCommand, GetTableCommand, type Table } from '@aws-sdk/client-glue';
import { gzipSync } from 'node:zlib';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { bucketOf } from '../../daemons/lib/catalog/objects.js';
import type { Config } from '../../daemons/lib/config/index.js';
import { createLogger } from '../../daemons/lib/log.js';
import { createCrawler, type CrawlReport, type DeleteBehavior, type SchemaChangePolicy } from '../../daemons/local/crawler/crawler.js';
import { putObject, putParquet, startTwin, type Twin, unique } from './crawl-helpers.js';

let twin: Twin;
const log = createLogger({ daemon: 'crawl-messy-test', level: 'error', stream: process.stderr });

test.before(async () => {
  twin = await startTwin();
});
test.after.always(async () => {
  await twin?.stop();
});

interface Case {
  config: Readonly<Config>;
  crawl(opts?: { policy?: SchemaChangePolicy; deletes?: DeleteBehavior }): Promise<CrawlReport>;
  table(name: string): Promise<Table>;
  partitions(name: string): Promise<Array<{ values: string[]; params: Record<string, string> }>>;
  remove(key: string): Promise<void>;
}

async function fresh(): Promise<Case> {
  const bucket = await twin.bucket();
  const database = unique('kl_messy').replace(/-/g, '_');
  const config = twin.config({ aws: { bucket }, crawl: { database } });
  const aws = createAwsClients(config);
  const name = unique('crawler');
  return {
    config,
    async crawl(opts = {}) {
      return await createCrawler({
        glue: aws.glue,
        bucket: bucketOf(aws.s3, bucket),
        name,
        database,
        targets: [{ path: 'datalake/', tablePrefix: '', exclude: [] }],
        schemaChangePolicy: opts.policy ?? 'UPDATE_IN_DATABASE',
        deleteBehavior: opts.deletes ?? 'LOG',
        log,
      }).run();
    },
    async table(t) {
      return (await aws.glue.send(new GetTableCommand({ DatabaseName: database, Name: t }))).Table!;
    },
    async partitions(t) {
      const ps = (await aws.glue.send(new GetPartitionsCommand({ DatabaseName: database, TableName: t }))).Partitions ?? [];
      return ps.map((p) => ({ values: p.Values ?? [], params: p.Parameters ?? {} })).sort((a, b) => a.values.join('/').localeCompare(b.values.join('/')));
    },
    async remove(key) {
      await bucketOf(aws.s3, bucket).deleteKeys([key]);
    },
  };
}

const cols = (t: Table) => (t.StorageDescriptor?.Columns ?? []).map((c) => `${c.Name} ${c.Type}`);
const pq = (c: Readonly<Config>, key: string, select: string) => putParquet(c, key, select);

test('mixed formats in one table folder: the majority format makes the table, the others are skipped and named', async (t) => {
  const c = await fresh();
  await pq(c.config, 'datalake/mixed/a.parquet', 'SELECT 1 AS id, 2.5 AS price');
  await pq(c.config, 'datalake/mixed/b.parquet', 'SELECT 2 AS id, 3.5 AS price');
  await putObject(c.config, 'datalake/mixed/c.jsonl.gz', gzipSync('{"id": 3, "price": 1.5}\n'));
  await putObject(c.config, 'datalake/mixed/d.csv', 'id,price\n4,4.5\n5,5.5\n');
  const r = await c.crawl();
  t.deepEqual(r.tablesCreated, ['mixed']);
  t.deepEqual(r.skipped, [
    { key: 'datalake/mixed/c.jsonl.gz', reason: 'classified json, but table mixed is parquet: not added' },
    { key: 'datalake/mixed/d.csv', reason: 'classified csv, but table mixed is parquet: not added' },
  ]);
  const tb = await c.table('mixed');
  t.is(tb.Parameters?.classification, 'parquet');
  t.deepEqual(cols(tb), ['id int', 'price decimal(2,1)']);
  t.is(tb.Parameters?.objectCount, '2');
});

test('a schema that gains a column: UPDATE_IN_DATABASE adds it; LOG leaves the table and says what changed', async (t) => {
  for (const policy of ['UPDATE_IN_DATABASE', 'LOG'] as const) {
    const c = await fresh();
    await pq(c.config, 'datalake/grow/dt=2026-01-01/a.parquet', `SELECT 1 AS id, 'x' AS name`);
    t.deepEqual((await c.crawl({ policy })).tablesCreated, ['grow']);
    await pq(c.config, 'datalake/grow/dt=2026-01-02/b.parquet', `SELECT 2 AS id, 'y' AS name, 9.5::DOUBLE AS score`);
    const r = await c.crawl({ policy });
    t.is(r.objectsRead, 1);
    t.is(r.partitionsAdded, 1);
    if (policy === 'UPDATE_IN_DATABASE') {
      t.deepEqual(r.tablesUpdated, ['grow']);
      t.deepEqual(cols(await c.table('grow')), ['id int', 'name string', 'score double']);
    } else {
      t.deepEqual(r.tablesUpdated, []);
      t.deepEqual(r.logged, ['table grow: schema change not applied (policy LOG): added score double']);
      t.deepEqual(cols(await c.table('grow')), ['id int', 'name string']);
    }
    t.deepEqual((await c.partitions('grow')).map((p) => p.values), [['2026-01-01'], ['2026-01-02']]);
  }
});

test('an int column that becomes bigint then double widens (Parquet footers and JSON samples)', async (t) => {
  const c = await fresh();
  await pq(c.config, 'datalake/widen/a.parquet', 'SELECT 1::INTEGER AS v, 1::INTEGER AS w');
  await pq(c.config, 'datalake/widen/b.parquet', 'SELECT 2::BIGINT AS v, 1.5::DOUBLE AS w');
  await putObject(c.config, 'datalake/jwiden/a.jsonl', '{"v": 1, "s": "a"}\n{"v": 2, "s": "b"}\n');
  await c.crawl();
  t.deepEqual(cols(await c.table('widen')), ['v bigint', 'w double']);
  t.deepEqual(cols(await c.table('jwiden')), ['v int', 's string']);
  await putObject(c.config, 'datalake/jwiden/b.jsonl', '{"v": 5000000000, "s": "c"}\n');
  await c.crawl();
  t.deepEqual(cols(await c.table('jwiden')), ['v bigint', 's string']);
  await putObject(c.config, 'datalake/jwiden/c.jsonl', '{"v": 2.5, "s": 7}\n');
  const r = await c.crawl();
  t.is(r.objectsRead, 1, 'only the new object is read');
  t.deepEqual(cols(await c.table('jwiden')), ['v double', 's string'], 'int → bigint → double; a string column seeing a number stays string');
});

test('a corrupt Parquet object, a truncated one and an empty object are skipped with their reasons; the crawl goes on', async (t) => {
  const c = await fresh();
  const good = await pq(c.config, 'datalake/t/year=2020/good.parquet', 'SELECT 1 AS id');
  await putObject(c.config, 'datalake/t/year=2020/corrupt.parquet', Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(64, 7), Buffer.from([16, 0, 0, 0]), Buffer.from('PAR1')]));
  await putObject(c.config, 'datalake/t/year=2021/truncated.parquet', good.subarray(0, good.length - 10));
  await putObject(c.config, 'datalake/t/year=2022/empty.parquet', Buffer.alloc(0));
  const r = await c.crawl();
  t.deepEqual(r.tablesCreated, ['t']);
  t.deepEqual(
    r.skipped.map((s) => s.key),
    ['datalake/t/year=2020/corrupt.parquet', 'datalake/t/year=2021/truncated.parquet', 'datalake/t/year=2022/empty.parquet'],
  );
  t.regex(r.skipped[0]!.reason, /^corrupt Parquet: /);
  t.is(r.skipped[1]!.reason, 'corrupt Parquet: no PAR1 magic at the end (truncated or not Parquet)');
  t.is(r.skipped[2]!.reason, 'empty object');
  t.deepEqual((await c.partitions('t')).map((p) => p.values), [['2020']], 'partitions only where a readable object is');
  const again = await c.crawl();
  t.is(again.objectsRead, 0, 'skipped objects are remembered, not re-read until they change');
});

test('folder names that are not k=v: partition_N keys, and an odd folder in a k=v table is skipped', async (t) => {
  const c = await fresh();
  await pq(c.config, 'datalake/plain/2020/01/a.parquet', 'SELECT 1 AS id');
  await pq(c.config, 'datalake/plain/2021/02/b.parquet', 'SELECT 2 AS id');
  await pq(c.config, 'datalake/kv/year=2020/a.parquet', 'SELECT 1 AS id');
  await pq(c.config, 'datalake/kv/year=2021/b.parquet', 'SELECT 2 AS id');
  await pq(c.config, 'datalake/kv/backup/c.parquet', 'SELECT 3 AS id');
  await putObject(c.config, 'datalake/kv/_SUCCESS', '');
  const r = await c.crawl();
  t.deepEqual((await c.table('plain')).PartitionKeys?.map((k) => k.Name), ['partition_0', 'partition_1']);
  t.deepEqual((await c.partitions('plain')).map((p) => p.values), [['2020', '01'], ['2021', '02']]);
  t.deepEqual((await c.table('kv')).PartitionKeys?.map((k) => k.Name), ['year']);
  t.deepEqual(r.skipped, [{ key: 'datalake/kv/backup/c.parquet', reason: 'folders "backup" do not match table kv\'s partition layout (year=…): not added' }]);
  t.is(r.objectsListed, 5, 'the _SUCCESS marker is not data');
});

test('CSV with a header: LazySimpleSerDe, delimiter and skip.header.line.count, types from the sample', async (t) => {
  const c = await fresh();
  await putObject(c.config, 'datalake/prices/a.csv', 'Symbol,Day,Close,Volume\nHSI,2020-01-02,28543.5,1200\nN225,2020-01-02,23204.9,900\n');
  await c.crawl();
  const tb = await c.table('prices');
  t.deepEqual(cols(tb), ['symbol string', 'day string', 'close double', 'volume int']);
  t.is(tb.StorageDescriptor?.SerdeInfo?.SerializationLibrary, 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe');
  t.is(tb.StorageDescriptor?.SerdeInfo?.Parameters?.['field.delim'], ',');
  t.is(tb.Parameters?.['skip.header.line.count'], '1');
  t.is(tb.Parameters?.classification, 'csv');
});

test('objects that are gone: LOG reports the partition and the table; DEPRECATE_IN_DATABASE marks them', async (t) => {
  for (const deletes of ['LOG', 'DEPRECATE_IN_DATABASE'] as const) {
    const c = await fresh();
    await pq(c.config, 'datalake/gone/year=2020/a.parquet', 'SELECT 1 AS id');
    await pq(c.config, 'datalake/gone/year=2021/b.parquet', 'SELECT 2 AS id');
    await c.crawl({ deletes });
    await c.remove('datalake/gone/year=2020/a.parquet');
    const r1 = await c.crawl({ deletes });
    await c.remove('datalake/gone/year=2021/b.parquet');
    const r2 = await c.crawl({ deletes });
    const parts = await c.partitions('gone');
    t.is(parts.length, 2, 'partitions are not deleted');
    if (deletes === 'LOG') {
      t.deepEqual(r1.logged, ['table gone: partition year=2020 has no objects left (delete behaviour LOG: partition kept)']);
      t.deepEqual(r2.logged, [`table gone: no objects left under s3://${c.config.aws.bucket}/datalake/gone/ (delete behaviour LOG: table kept)`]);
      t.is((await c.table('gone')).Parameters?.DEPRECATED_BY_CRAWLER, undefined);
    } else {
      t.truthy(parts[0]!.params.DEPRECATED_BY_CRAWLER);
      t.is(parts[1]!.params.DEPRECATED_BY_CRAWLER, undefined);
      t.deepEqual(r2.tablesDeprecated, ['gone']);
      t.truthy((await c.table('gone')).Parameters?.DEPRECATED_BY_CRAWLER);
    }
  }
});
