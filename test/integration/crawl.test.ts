// The local crawler over the lake the real ETL builds from the indexProcessed.csv replay: staging
// objects as the consumer writes them (with a few bad lines for the DLQ), `runEtl` in local mode,
// then a crawl. Asserted through the twin's Glue API (GetTable, GetPartitions) against the ETL's
// table spec and the CSV itself; then incremental re-crawls and `kafkalake run crawl`.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import test from 'ava';
import { GetPartitionsCommand, GetTableCommand, type Table } from '@aws-sdk/client-glue';
import { createAwsClients, type AwsClients } from '../../daemons/lib/aws.js';
import { runCrawl } from '../../daemons/jobs/crawl.js';
import { bucketOf } from '../../daemons/lib/catalog/objects.js';
import type { CrawlReport } from '../../daemons/local/crawler/crawler.js';
import { createQueryEngine } from '../../daemons/jobs/query.js';
import type { Config } from '../../daemons/lib/config/index.js';
import { runEtl } from '../../daemons/jobs/etl.js';
import { s3Store } from '../../daemons/lib/etl/store.js';
import { createLogger } from '../../daemons/lib/log.js';
import { PROJECT_ROOT, resolveFromRoot } from '../../daemons/lib/paths.js';
import { csvRecords, nextDay, stager, type Stager, today } from './etl-staging.js';
import { listKeys, readCsv, startTwin, type Twin, unique } from './crawl-helpers.js';

let twin: Twin;
let config: Readonly<Config>;
let aws: AwsClients;
let stage: Stager;
let first: CrawlReport;
let badObject = '';
const log = createLogger({ daemon: 'crawl-test', level: 'warn', stream: process.stderr });
const BAD_LINES = ['this is not json', '{"index":"HSI","date":"2020-01-01","open":"abc"}'];

const spec = JSON.parse(readFileSync(resolveFromRoot('glue/tables/stock_market_data.json'), 'utf8')) as { columns: Array<{ name: string; type: string }> };
const getTable = async (name: string): Promise<Table> => (await aws.glue.send(new GetTableCommand({ DatabaseName: config.crawl.database, Name: name }))).Table!;
async function partitions(table: string) {
  const out = [];
  let token: string | undefined;
  do {
    const page = await aws.glue.send(new GetPartitionsCommand({ DatabaseName: config.crawl.database, TableName: table, NextToken: token, MaxResults: 20 }));
    out.push(...(page.Partitions ?? []));
    token = page.NextToken;
  } while (token);
  return out;
}

test.before(async () => {
  twin = await startTwin();
  const bucket = await twin.bucket();
  config = twin.config({ aws: { bucket }, crawl: { database: unique('kl_crawl').replace(/-/g, '_'), crawlerName: unique('crawler') }, etl: { memoryMb: 512 } });
  aws = createAwsClients(config);
  stage = stager(s3Store(aws.s3, bucket), 'stock_market_data', { partitions: 3, perObject: 20_000, timestamp: 'iso', track: false });
  await stage.stage(csvRecords());
  badObject = await stage.stageLines(0, stage.next[0]!, BAD_LINES);
  stage.next[0]! += BAD_LINES.length;
  await runEtl(config, log);
  first = (await runCrawl(config, log)) as CrawlReport;
});

test.after.always(async () => {
  aws?.destroy();
  await twin?.stop();
});

test.serial('the crawl skips the one staged object that is not JSON lines, naming it and why', (t) => {
  t.deepEqual(first.skipped, [{ key: badObject, reason: 'not Parquet, JSON lines or CSV' }]);
});

test.serial('the lake table: the spec’s columns and types, Parquet SerDe and formats, partitioned by year', async (t) => {
  // the ETL made the lake table from sql/ddl before the first crawl (it registers its partitions)
  t.false(first.tablesCreated.includes('stock_market_data'));
  const tb = await getTable('stock_market_data');
  t.deepEqual(
    tb.StorageDescriptor?.Columns?.map((c) => [c.Name, c.Type]),
    spec.columns.map((c) => [c.name, c.type]),
  );
  t.deepEqual(tb.PartitionKeys?.map((k) => [k.Name, k.Type]), [['year', 'string']]);
  t.is(tb.TableType, 'EXTERNAL_TABLE');
  t.is(tb.StorageDescriptor?.Location, `s3://${config.aws.bucket}/datalake/stock_market_data/`);
  t.is(tb.StorageDescriptor?.InputFormat, 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat');
  t.is(tb.StorageDescriptor?.OutputFormat, 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat');
  t.is(tb.StorageDescriptor?.SerdeInfo?.SerializationLibrary, 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
  t.is(tb.Parameters?.classification, 'parquet');
  t.regex(tb.Parameters?.CREATED_BY ?? '', /sql\/ddl\/stock_market_data\.sql/, 'made from the DDL the role and bootstrap use');
});

test.serial('the lake partitions: one per year of the CSV’s dates, each at its year=YYYY/ folder', async (t) => {
  const years = [...new Set(readCsv().map((r) => r.date.slice(0, 4)))].sort();
  const parts = await partitions('stock_market_data');
  t.deepEqual(parts.map((p) => p.Values?.[0]).sort(), years);
  for (const p of parts) {
    t.is(p.StorageDescriptor?.Location, `s3://${config.aws.bucket}/datalake/stock_market_data/year=${p.Values?.[0]}/`);
    t.is(p.StorageDescriptor?.SerdeInfo?.SerializationLibrary, 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
    t.is(p.StorageDescriptor?.Columns?.length, spec.columns.length);
  }
});

test.serial('staging and the DLQ are catalogued as gzip JSON tables partitioned by dt', async (t) => {
  const st = await getTable('staging_stock_market_data');
  t.is(st.Parameters?.classification, 'json');
  t.is(st.Parameters?.compressionType, 'gzip');
  t.is(st.StorageDescriptor?.SerdeInfo?.SerializationLibrary, 'org.openx.data.jsonserde.JsonSerDe');
  t.is(st.StorageDescriptor?.InputFormat, 'org.apache.hadoop.mapred.TextInputFormat');
  t.deepEqual(st.PartitionKeys?.map((k) => k.Name), ['dt']);
  const cols = Object.fromEntries(st.StorageDescriptor!.Columns!.map((c): [string, string] => [c.Name ?? '', c.Type ?? '']));
  t.like(cols, { index: 'string', date: 'string', open: 'double', close_usd: 'double', _topic: 'string', _partition: 'int', _timestamp: 'string' });
  const dlq = await getTable('dlq_stock_market_data');
  const dcols = Object.fromEntries(dlq.StorageDescriptor!.Columns!.map((c): [string, string] => [c.Name ?? '', c.Type ?? '']));
  // the ETL's DLQ lines (stage, table, reason, source, envelope, raw); their envelope is NULL for lines that were not JSON
  t.like(dcols, { reason: 'string', raw: 'string', stage: 'string', source: 'string', _offset: 'string' });
  t.is(dlq.StorageDescriptor?.Location, `s3://${config.aws.bucket}/staging/_dlq/stock_market_data/`);
});

test.serial('a re-crawl reads no object; new objects are read alone and add only their partitions', async (t) => {
  const again = (await runCrawl(config, log)) as CrawlReport;
  t.is(again.objectsRead, 0);
  t.deepEqual([again.tablesCreated, again.tablesUpdated, again.partitionsAdded], [[], [], 0]);
  t.true((await listKeys(config, '_state/')).includes(`_state/crawler-${config.crawl.crawlerName}.json`));

  const before = new Set([...(await listKeys(config, 'datalake/')), ...(await listKeys(config, 'staging/'))]);
  const extra = [
    { index: 'NEWX', date: '2030-01-02', open: 1, high: 2, low: 0.5, close: 1.5, adj_close: 1.5, volume: 100, close_usd: 1.5, event_time: '2030-01-02T21:00:00.000Z' },
    { index: 'NEWX', date: '2030-01-03', open: 1.5, high: 2, low: 1, close: 1.75, adj_close: 1.75, volume: 200, close_usd: 1.75, event_time: '2030-01-03T21:00:00.000Z' },
  ];
  const dt = nextDay(today()); // the first staging is dated today: a new dt= partition
  await stage.stage(extra, { dt });
  await runEtl(config, log);
  const after = [...(await listKeys(config, 'datalake/')), ...(await listKeys(config, 'staging/'))].filter((k) => !before.has(k));
  const third = (await runCrawl(config, log)) as CrawlReport;
  t.is(third.objectsRead, after.length, `read only the new objects: ${after.join(', ')}`);
  t.is(third.partitionsAdded, 1, `dt=${dt} in staging; the ETL registered year=2030 in the lake itself`);
  t.deepEqual(third.tablesUpdated, []);
  const years = (await partitions('stock_market_data')).map((p) => p.Values?.[0]);
  t.true(years.includes('2030'));

  const engine = createQueryEngine(config, log);
  try {
    const r = await engine.query(`SELECT count(*) AS n, count_if("index" = 'NEWX') AS x FROM stock_market_data`);
    t.deepEqual(r.rows, [[String(readCsv().length + 2), '2']]);
  } finally {
    engine.close();
  }
});

test.serial('kafkalake run crawl prints the crawl and exits 0; --json gives the report', (t) => {
  const file = twin.configFile({ aws: { bucket: config.aws.bucket }, crawl: { database: config.crawl.database, crawlerName: config.crawl.crawlerName } });
  const cli = (args: string[]) => spawnSync(process.execPath, [`${PROJECT_ROOT}/dist/daemons/cli/main.js`, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  const text = cli(['run', 'crawl', '--config', file]);
  t.is(text.status, 0, text.stderr);
  t.regex(text.stdout, new RegExp(`^crawl ${config.crawl.database}: \\d+ objects listed, 0 read; tables created: none`));
  const json = cli(['run', 'crawl', '--json', '--config', file]);
  t.is(json.status, 0, json.stderr);
  const report = JSON.parse(json.stdout) as CrawlReport;
  t.is(report.objectsRead, 0);
  t.is(report.database, config.crawl.database);
});

test.serial('recrawl policy CRAWL_NEW_FOLDERS_ONLY: a re-crawl lists only folders it has not crawled, so 300 more objects in a crawled folder cost nothing', async (t) => {
  const crawlerName = unique('crawler-newf');
  const file = twin.configFile({
    aws: { bucket: config.aws.bucket },
    crawl: { database: unique('kl_newf').replace(/-/g, '_'), crawlerName, recrawlPolicy: 'CRAWL_NEW_FOLDERS_ONLY', schemaChangePolicy: 'LOG', deleteBehavior: 'LOG' },
  });
  const cli = (args: string[]) => spawnSync(process.execPath, [`${PROJECT_ROOT}/dist/daemons/cli/main.js`, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  const crawl = () => {
    const r = cli(['run', 'crawl', '--json', '--config', file]);
    t.is(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as CrawlReport;
  };
  const all = [...(await listKeys(config, 'datalake/')), ...(await listKeys(config, 'staging/'))].filter((k) => !k.split('/').pop()!.startsWith('_'));
  const c1 = crawl();
  t.is(c1.recrawlPolicy, 'CRAWL_NEW_FOLDERS_ONLY');
  t.is(c1.objectsListed, all.length, 'the first crawl finds every object, folder by folder');
  t.deepEqual(c1.tablesCreated.sort(), ['dlq_stock_market_data', 'staging_stock_market_data', 'stock_market_data']);
  t.true(c1.partitionsAdded > 30);

  // 300 more objects in a crawled dt= folder, and one new dt= folder
  const crawledDt = (await listKeys(config, 'staging/stock_market_data/'))[0]!.split('/')[2]!;
  const filler: string[] = [];
  for (let i = 0; i < 300; i++) filler.push(await stage.stageLines(1, 10_000_000 + i, ['{"index":"FILL","date":"2031-01-02","open":1,"high":1,"low":1,"close":1,"adj_close":1,"volume":1,"close_usd":1,"_topic":"stock_market_data","_partition":1,"_offset":1,"_timestamp":"2031-01-02T00:00:00.000Z"}'], crawledDt.slice(3)));
  const newDt = nextDay(nextDay(today()));
  const fresh = await stage.stage([{ index: 'NEWY', date: '2031-01-02', open: 1, high: 2, low: 0.5, close: 1.5, adj_close: 1.5, volume: 100, close_usd: 1.5, event_time: '2031-01-02T21:00:00.000Z' }], { dt: newDt });

  const c2 = crawl();
  t.deepEqual([c2.objectsListed, c2.objectsRead], [fresh.length, fresh.length], 'only the new folder’s objects are listed and read');
  t.is(c2.partitionsAdded, 1, `dt=${newDt} in staging`);
  t.true(c2.foldersListed! <= 8, `${c2.foldersListed} folders listed: the targets, the table folders and the new one`);
  const body = await bucketOf(aws.s3, config.aws.bucket).get(`_state/crawler-${crawlerName}.json`);
  const state = JSON.parse(body?.toString('utf8') ?? '{}') as { objects: Record<string, unknown>; folders: string[] };
  t.true(state.folders.includes(`staging/stock_market_data/dt=${newDt}/`));
  t.false(filler.some((k) => k in state.objects), 'the filler objects are not in the state');

  const c3 = crawl();
  t.deepEqual([c3.objectsListed, c3.objectsRead, c3.partitionsAdded], [0, 0, 0]);
});
