// aws-mode Athena where moto falls short: results over several GetQueryResults pages, and queries
// that end FAILED. The real SDK clients (the runner's, and those of `kafkalake query` / `run report`
// in child processes) talk HTTP to the Athena shim (test/helpers/athena-shim.ts), which forwards
// everything to the AWS twin (moto's server) and adds only Athena's paging and FAILED state.
// The twin alone is started (no Kafka: nothing here produces or consumes).
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { CreateWorkGroupCommand, GetQueryResultsCommand, InvalidRequestException } from '@aws-sdk/client-athena';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createAwsClients, type AwsClients } from '../../daemons/lib/aws.js';
import { createAthenaRunner } from '../../daemons/lib/athena/athena-runner.js';
import { createLogger } from '../../daemons/lib/log.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { type AthenaShim, startAthenaShim } from '../helpers/athena-shim.js';
import { startTwin, type Twin } from './crawl-helpers.js';

const CLI = path.join(PROJECT_ROOT, 'dist/daemons/cli/main.js');
const WORKGROUP = 'kafkalake-paging';
const BUCKET = 'kl-paging';
const SYNTAX_ERROR = "line 1:8: mismatched input 'FORM'. Expecting: ',', 'EXCEPT', 'FROM', 'GROUP', 'HAVING', 'LIMIT', 'ORDER', 'UNION', 'WHERE', <EOF>";

let twin: Twin;
let shim: AthenaShim;
let aws: AwsClients;
const log = createLogger({ daemon: 'athena-paging-test', level: 'warn', stream: process.stderr });

/** The aws-mode config of the CLI runs: every client at the shim, polling fast. */
const awsConfig = (reports: Record<string, unknown> = {}) =>
  twin.configFile({
    mode: 'aws',
    aws: { endpoint: shim.endpoint, bucket: BUCKET, accessKeyId: 'test', secretAccessKey: 'test' },
    reports: { workgroup: WORKGROUP, pollMinMs: 20, pollMaxMs: 100, ...reports },
  });

async function motoApi(p: string, body: unknown): Promise<void> {
  const res = await fetch(`${twin.endpoint}/moto-api/${p}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  if (res.status >= 300) throw new Error(`moto-api ${p}: ${res.status}`);
}

/** Queue one result of n rows in moto (the header row first, as Athena's result set of a SELECT has it). */
async function queue(n: number): Promise<string[][]> {
  const rows = Array.from({ length: n }, (_, i) => [`idx-${i}`, String(i * 7)]);
  await motoApi('static/athena/query-results', {
    results: [
      {
        column_info: [
          { Name: 'index', Type: 'varchar' },
          { Name: 'n', Type: 'bigint' },
        ],
        rows: [['index', 'n'], ...rows].map((r) => ({ Data: r.map((v) => ({ VarCharValue: v })) })),
      },
    ],
  });
  return rows;
}

/** A row as Athena's CSV has it (every value quoted). */
const csvLine = (row: string[]) => row.map((v) => `"${v}"`).join(',');

const cli = promisify(execFile);

/** Run the CLI in a child process (async: the shim answers from this process meanwhile). */
async function kafkalake(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await cli(process.execPath, [CLI, ...args], { maxBuffer: 64 << 20, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const callsFor = (id: string, op: string) => shim.calls.filter((c) => c.op === op && c.request.QueryExecutionId === id);

test.before(async () => {
  twin = await startTwin();
  shim = await startAthenaShim(twin.endpoint);
  aws = createAwsClients(twin.config({ mode: 'aws', aws: { endpoint: shim.endpoint, bucket: BUCKET, accessKeyId: 'test', secretAccessKey: 'test' } }));
  await aws.athena.send(new CreateWorkGroupCommand({ Name: WORKGROUP, Configuration: { ResultConfiguration: { OutputLocation: `s3://${BUCKET}/athena-results/` } } }));
  await aws.s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await motoApi('state-manager/set-transition', { model_name: 'athena::execution', transition: { progression: 'immediate' } });
});

test.after.always(async () => {
  aws?.destroy();
  await shim?.close();
  await twin?.stop();
});

test.serial('2,345 rows over three GetQueryResults pages of 1000: every row once, in order, the header dropped once, each NextToken passed on', async (t) => {
  t.timeout(60_000, 'a runner that does not pass NextToken on reads the first page for ever');
  const expected = await queue(2345);
  const runner = createAthenaRunner({
    athena: aws.athena,
    workgroup: WORKGROUP,
    database: 'kafkalake',
    outputLocation: `s3://${BUCKET}/athena-results/`,
    pollMinMs: 1,
    pollMaxMs: 10,
    timeoutMs: 60_000,
    pageSize: 1000,
    log,
  });
  const res = await runner.query('SELECT "index", n FROM stock_market_data', 'paging test');
  t.deepEqual(res.columns, [
    { name: 'index', type: 'varchar' },
    { name: 'n', type: 'bigint' },
  ]);
  t.is(res.rows.length, 2345);
  t.deepEqual(res.rows, expected);
  t.is(res.pages, 3);
  const pages = callsFor(res.queryId, 'GetQueryResults');
  t.is(pages.length, 3);
  t.deepEqual(
    pages.map((p) => p.request.MaxResults),
    [1000, 1000, 1000],
  );
  t.deepEqual(
    pages.map((p) => p.rows),
    [1000, 1000, 346],
    'the header row counts against the first page',
  );
  t.is(pages[0]!.request.NextToken, undefined);
  t.is(pages[1]!.request.NextToken, pages[0]!.nextToken);
  t.is(pages[2]!.request.NextToken, pages[1]!.nextToken);
  t.truthy(pages[1]!.request.NextToken);
  t.not(pages[1]!.request.NextToken, pages[2]!.request.NextToken);
  t.is(pages[2]!.nextToken, undefined, 'the last page has no NextToken');
});

test.serial('the shim pages as Athena does: header on the first page only, MaxResults 1..1000, only its own NextTokens', async (t) => {
  await queue(5);
  const runner = createAthenaRunner({ athena: aws.athena, workgroup: WORKGROUP, database: 'kafkalake', outputLocation: `s3://${BUCKET}/athena-results/`, pollMinMs: 1, pollMaxMs: 1, timeoutMs: 10_000, pageSize: 2, log });
  const res = await runner.query('SELECT 5', 'shim check');
  t.is(res.pages, 3);
  t.is(res.rows.length, 5);
  const first = await aws.athena.send(new GetQueryResultsCommand({ QueryExecutionId: res.queryId, MaxResults: 2 }));
  t.deepEqual(
    first.ResultSet?.Rows?.map((r) => r.Data?.[0]?.VarCharValue),
    ['index', 'idx-0'],
  );
  t.is(first.ResultSet?.ResultSetMetadata?.ColumnInfo?.length, 2);
  const second = await aws.athena.send(new GetQueryResultsCommand({ QueryExecutionId: res.queryId, MaxResults: 2, NextToken: first.NextToken }));
  t.deepEqual(
    second.ResultSet?.Rows?.map((r) => r.Data?.[0]?.VarCharValue),
    ['idx-1', 'idx-2'],
  );
  t.is(second.ResultSet?.ResultSetMetadata?.ColumnInfo?.length, 2, 'metadata on every page');
  await t.throwsAsync(aws.athena.send(new GetQueryResultsCommand({ QueryExecutionId: res.queryId, MaxResults: 1001 })), { instanceOf: InvalidRequestException });
  await t.throwsAsync(aws.athena.send(new GetQueryResultsCommand({ QueryExecutionId: res.queryId, NextToken: 'not-a-token' })), { instanceOf: InvalidRequestException });
});

test.serial('kafkalake query in aws mode reads every page (default page size 1000) and the S3 calls pass through the shim', async (t) => {
  const expected = await queue(2345);
  const r = await kafkalake(['query', 'SELECT "index", n FROM stock_market_data', '--format', 'csv', '--config', awsConfig()]);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  t.is(lines.length, 2346);
  t.is(lines[0], '"index","n"');
  t.deepEqual(lines.slice(1), expected.map(csvLine));
  const id = /query ([0-9a-f-]{36}) \(athena/.exec(r.stderr)?.[1] ?? '';
  t.is(callsFor(id, 'GetQueryResults').length, 3, r.stderr);
});

test.serial('kafkalake run report over pages: the report file in S3 (written through the shim) has every row once', async (t) => {
  const dir = path.join(twin.dir, 'reports-paged');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'big_report.sql'), '-- name: big_report\n-- description: a result over three pages\n-- schedule: 0 6 * * *\nSELECT "index", n FROM stock_market_data\n');
  const expected = await queue(2345);
  const r = await kafkalake(['run', 'report', 'big_report', '--json', '--config', awsConfig({ dir })]);
  t.is(r.code, 0, r.stderr);
  const [run] = JSON.parse(r.stdout) as Array<{ ok: boolean; rows: number; report: string; queryId: string }>;
  t.true(run?.ok);
  t.is(run?.rows, 2345);
  t.is(callsFor(run?.queryId ?? '', 'GetQueryResults').length, 3);
  const key = (run?.report ?? '').replace(`s3://${BUCKET}/`, '');
  t.regex(key, /^reports\/big_report\/\d{4}-\d{2}-\d{2}\.csv$/);
  const body = await (await aws.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();
  const lines = body.trimEnd().split('\n');
  t.is(lines[0], '"index","n"');
  t.deepEqual(lines.slice(1), expected.map(csvLine));
});

test.serial('kafkalake query on a query Athena fails: exit 1, one stderr line with the query id and Athena’s reason at line:column, no stack', async (t) => {
  shim.failNext({ reason: SYNTAX_ERROR, category: 2, type: 1100 });
  const r = await kafkalake(['query', 'SELECT * FORM stock_market_data', '--config', awsConfig()]);
  t.is(r.code, 1);
  t.is(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  t.is(lines.length, 1, r.stderr);
  const id = shim.failed().at(-1) ?? 'none';
  t.is(lines[0], `kafkalake: query ${id} FAILED (USER error): ${SYNTAX_ERROR}`);
  t.notRegex(r.stderr, /\n\s+at /);
  const states = callsFor(id, 'GetQueryExecution').map((c) => c.state);
  t.deepEqual(states, ['RUNNING', 'RUNNING', 'FAILED'], 'polled through RUNNING until FAILED');
  t.is(callsFor(id, 'GetQueryResults').length, 0, 'no results read of a failed query');
});

test.serial('kafkalake run report on a saved query Athena fails: exit 1, one stderr line naming the report, the query and Athena’s reason', async (t) => {
  const dir = path.join(twin.dir, 'reports-failing');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'broken_ohlc.sql'), '-- name: broken_ohlc\n-- description: a saved query with a syntax error\n-- schedule: 0 6 * * *\nSELECT * FORM stock_market_data\n');
  shim.failNext({ reason: SYNTAX_ERROR, category: 2, type: 1100, runningPolls: 1 });
  const r = await kafkalake(['run', 'report', 'broken_ohlc', '--config', awsConfig({ dir })]);
  t.is(r.code, 1);
  t.is(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  t.is(lines.length, 1, r.stderr);
  const id = shim.failed().at(-1) ?? 'none';
  t.is(lines[0], `kafkalake: 1 of 1 reports failed: broken_ohlc: query ${id} FAILED (USER error): ${SYNTAX_ERROR}`);
  t.notRegex(r.stderr, /\n\s+at /);
  t.deepEqual(
    callsFor(id, 'GetQueryExecution').map((c) => c.state),
    ['RUNNING', 'FAILED'],
  );
  const list = await aws.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'reports/broken_ohlc/' }));
  t.is(list.KeyCount ?? 0, 0, 'no report file for a failed query');
});
