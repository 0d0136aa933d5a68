// `kafkalake reports list|show` read the report files from the bucket (the twin here, S3 on AWS), as a
// person would without an S3 client: the latest date, rows and location of each saved report, one file as
// a table, CSV or JSON, and one line naming what exists for an unknown report or date.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { resultCsv } from '../../daemons/lib/athena/result.js';
import { runCli } from './consumer-helpers.js';
import { sharedStack } from './shared-stack.js';

const shared = sharedStack();

const csv = (rows: string[][]) => resultCsv({ columns: ['index', 'trade_year', 'close'].map((name) => ({ name, type: 'varchar' })), rows: rows.map((r) => r.map((v) => (v === '' ? null : v))) });

async function bucketWithReports(): Promise<{ cfg: string; bucket: string }> {
  const { stack } = shared;
  const bucket = await stack.bucket();
  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  try {
    const put = (key: string, body: string) => aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    await put('reports/yearly_ohlc/2026-12-01.csv', csv([['GDAXI', '2020', '13718.78']]));
    await put('reports/yearly_ohlc/2026-12-02.csv', csv([['GDAXI', '2020', '13718.78'], ['N225', '2021', '28791.71'], ['NYA', '2021', '']]));
    await put('reports/yearly_ohlc/notes.txt', 'not a report');
  } finally {
    aws.destroy();
  }
  return { cfg: stack.configFile({ aws: { bucket } }), bucket };
}

async function cli(args: string[]) {
  const r = runCli(args);
  const { code } = await r.exited;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

test('reports list: every saved report with its latest date, rows and location; never-run ones say so', async (t) => {
  const { cfg, bucket } = await bucketWithReports();
  const r = await cli(['reports', 'list', '--config', cfg]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`^yearly_ohlc +\\| 2026-12-02 +\\| 3 +\\| s3://${bucket}/reports/yearly_ohlc/2026-12-02\\.csv \\| 2$`, 'm'));
  t.regex(r.stdout, /^daily_ohlc +\| never run +\| - +\| - +\| 0$/m);
  const j = await cli(['reports', 'list', '--json', '--config', cfg]);
  const list = JSON.parse(j.stdout) as Array<{ name: string; dates: string[] }>;
  t.deepEqual(list.find((x) => x.name === 'yearly_ohlc')?.dates, ['2026-12-01', '2026-12-02']);
  t.true(list.some((x) => x.name === 'data_quality'));
});

test('reports show: the latest file as a table, a chosen date as CSV or JSON', async (t) => {
  const { cfg } = await bucketWithReports();
  const table = await cli(['reports', 'show', 'yearly_ohlc', '--config', cfg]);
  t.is(table.code, 0, table.stderr);
  t.regex(table.stdout, /^index +\| trade_year +\| close$/m);
  t.regex(table.stdout, /^N225 +\| 2021 +\| 28791\.71$/m);
  t.regex(table.stderr, /3 rows; report yearly_ohlc of 2026-12-02/);
  const old = await cli(['reports', 'show', 'yearly_ohlc', '--date', '2026-12-01', '--format', 'csv', '--config', cfg]);
  t.is(old.stdout, '"index","trade_year","close"\n"GDAXI","2020","13718.78"\n');
  const json = await cli(['reports', 'show', 'yearly_ohlc', '--format', 'json', '--config', cfg]);
  t.deepEqual((JSON.parse(json.stdout) as unknown[]).at(-1), { index: 'NYA', trade_year: '2021', close: '' });
});

test('an unknown report, an unknown date, a report not run yet and a bad flag each end in one line', async (t) => {
  const { cfg } = await bucketWithReports();
  const cases: Array<[string[], number, RegExp]> = [
    [['reports', 'show', 'nope'], 1, /^kafkalake: no report "nope"; reports: best_worst_days, daily_ohlc, data_quality, .*yearly_ohlc\n$/],
    [['reports', 'show', 'yearly_ohlc', '--date', '2020-01-01'], 1, /^kafkalake: report yearly_ohlc has no result for 2020-01-01; dates kept: 2026-12-02, 2026-12-01\n$/],
    [['reports', 'show', 'daily_ohlc'], 1, /^kafkalake: report daily_ohlc has not run yet \(run it: kafkalake run report daily_ohlc\)\n$/],
    [['reports', 'show', 'yearly_ohlc', '--date', 'yesterday'], 2, /^kafkalake: --date must be YYYY-MM-DD, got "yesterday"\n$/],
    [['reports', 'show'], 2, /^kafkalake: reports show needs a report name; usage: /],
    [['reports', 'show', 'yearly_ohlc', '--format', 'xml'], 2, /^kafkalake: --format must be one of table, csv, json, got "xml"\n$/],
  ];
  for (const [args, code, message] of cases) {
    const r = await cli([...args, '--config', cfg]);
    t.is(r.code, code, args.join(' '));
    t.regex(r.stderr, message, args.join(' '));
  }
});
