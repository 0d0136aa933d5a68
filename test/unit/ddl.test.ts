// The table definitions of sql/ddl read as bootstrap reads them, and the Glue tables made from them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ddlTableInput, loadDdl, parseDdl } from '../../daemons/lib/catalog/ddl.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';

const tables = loadDdl(path.join(PROJECT_ROOT, 'sql/ddl'));
const byName = (n: string) => tables.find((t) => t.name === n)!;

test('bootstrap creates the staging, DLQ and lake tables (the ETL registers the lake partitions itself)', (t) => {
  t.deepEqual(tables.filter((d) => d.bootstrap).map((d) => d.name), ['dlq_stock_market_data', 'staging_stock_market_data', 'stock_market_data']);
  t.deepEqual(tables.map((d) => d.name), ['dlq_stock_market_data', 'staging_stock_market_data', 'stock_market_data']);
});

test('columns, partition keys, format and properties come from the DDL', (t) => {
  const dlq = byName('dlq_stock_market_data');
  t.deepEqual(dlq.columns.map((c) => c.Name), ['_topic', '_partition', '_offset', '_timestamp', '_key', 'reason', 'raw_base64', 'stage', 'table', 'source', 'raw']);
  t.deepEqual(dlq.columns[2], { Name: '_offset', Type: 'bigint' });
  t.deepEqual(dlq.partitionKeys, [{ Name: 'dt', Type: 'string' }]);
  t.is(dlq.format, 'json');
  t.is(dlq.compression, 'gzip');
  t.is(dlq.serdeProperties['ignore.malformed.json'], 'true');
  const lake = byName('stock_market_data');
  t.is(lake.format, 'parquet');
  t.deepEqual(lake.partitionKeys, [{ Name: 'year', Type: 'string' }]);
  t.deepEqual(lake.columns.find((c) => c.Name === 'trade_date'), { Name: 'trade_date', Type: 'date' });
});

test('the Glue table: the bucket filled in, the crawler’s JSON storage shape, the DDL’s SerDe and table properties', (t) => {
  const input = ddlTableInput(byName('dlq_stock_market_data'), 'my-bucket');
  t.is(input.Name, 'dlq_stock_market_data');
  t.is(input.TableType, 'EXTERNAL_TABLE');
  t.is(input.StorageDescriptor?.Location, 's3://my-bucket/staging/_dlq/stock_market_data/');
  t.is(input.StorageDescriptor?.InputFormat, 'org.apache.hadoop.mapred.TextInputFormat');
  t.is(input.StorageDescriptor?.SerdeInfo?.SerializationLibrary, 'org.openx.data.jsonserde.JsonSerDe');
  t.is(input.StorageDescriptor?.SerdeInfo?.Parameters?.['ignore.malformed.json'], 'true');
  t.true(input.StorageDescriptor?.Compressed);
  t.is(input.StorageDescriptor?.Columns?.length, 11);
  t.deepEqual(input.PartitionKeys, [{ Name: 'dt', Type: 'string' }]);
  t.like(input.Parameters, { classification: 'json', compressionType: 'gzip', EXTERNAL: 'TRUE', 'projection.enabled': 'true' });
  t.is(input.Parameters?.['storage.location.template'], 's3://my-bucket/staging/_dlq/stock_market_data/dt=${dt}/');
});

test('a definition bootstrap cannot read fails with one line naming the file', (t) => {
  const f = '/x/sql/ddl/t.sql';
  const ok = "-- name: t\n-- description: d\nCREATE EXTERNAL TABLE t (a int, b decimal(10,2))\nLOCATION 's3://${BUCKET}/t/'\nTBLPROPERTIES ('classification' = 'parquet')";
  t.deepEqual(parseDdl(f, ok).columns, [
    { Name: 'a', Type: 'int' },
    { Name: 'b', Type: 'decimal(10,2)' },
  ]);
  const cases: Array<[string, RegExp]> = [
    [ok.replace('-- name: t', '-- name: u'), /"-- name: t" expected/],
    [ok.replace('-- description: d\n', ''), /description: \.\.\." missing/],
    [ok.replace("LOCATION 's3://${BUCKET}/t/'", ''), /no LOCATION/],
    [ok.replace('parquet', 'orc'), /must be json or parquet/],
    [ok.replace('(a int,', '(a int,,').replace('b decimal', '7 decimal'), /cannot read the column definition "7 decimal\(10,2\)"/],
    [ok.replace('CREATE EXTERNAL TABLE', 'CREATE VIEW'), /no CREATE EXTERNAL TABLE/],
    [ok.replace('-- name: t\n', '-- name: t\n-- bootstrap: yes\n'), /"-- bootstrap: create" or no bootstrap line/],
  ];
  for (const [text, re] of cases) {
    const err = t.throws(() => parseDdl(f, text));
    t.regex(err?.message ?? '', re);
    t.is((err as { where?: string } | undefined)?.where, f);
    t.false(err?.message.includes('\n'));
  }
});

// Athena's DDL refuses names that begin with an underscore unless they are quoted: "Use backticks to
// enclose table, view, or column names that begin with an underscore" (Athena User Guide, "Name
// databases, tables, and columns"). The headers tell users to paste these files into Athena.
test('every name that begins with an underscore is in backticks, as Athena’s DDL requires', (t) => {
  for (const d of tables) {
    const body = readFileSync(d.file, 'utf8').replace(/--[^\n]*/g, '');
    const bare = [...body.matchAll(/(^|[\s(,])(_[A-Za-z0-9_]*)(?=\s)/g)].map((m) => m[2]);
    t.deepEqual(bare, [], `${path.basename(d.file)}: ${bare.join(', ')} not in backticks`);
    t.true(d.columns.some((c) => c.Name.startsWith('_')), `${d.name} has envelope columns (so the check looked at some)`);
  }
});

// One source for the staging and DLQ tables on AWS: the aws_resources role creates them from the same
// sql/ddl files with library/kafkalake_aws.py (kind glue_table), which must make the TableInput bootstrap makes.
test('the Ansible role’s glue_table makes from each definition the Glue table bootstrap makes', (t) => {
  const py = path.join(PROJECT_ROOT, '.kafkalake/venv/bin/python');
  const mod = path.join(PROJECT_ROOT, 'ansible/roles/aws_resources/library/kafkalake_aws.py');
  for (const d of tables) {
    const ansible: unknown = JSON.parse(execFileSync(py, [mod, '--table-input', d.file, 'my-bucket'], { encoding: 'utf8' }));
    t.deepEqual(ansible, JSON.parse(JSON.stringify(ddlTableInput(d, 'my-bucket'))), d.name);
  }
});
