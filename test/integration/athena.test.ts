// aws-mode Athena and Glue crawler calls against the AWS twin (moto's server), through the real SDK
// clients. What moto cannot do, and so what these tests cannot show: its Athena does not run SQL
// (GetQueryResults returns the rows queued through its /moto-api, in one page, ignoring NextToken
// and MaxResults) and never ends a query FAILED (only CANCELLED after StopQueryExecution); its Glue
// crawler does not crawl (a crawl goes RUNNING → COMPLETED without touching the catalog) and it has
// no GetCrawlerMetrics. Polling is driven through its state manager (manual transitions).
import test from 'ava';
import { CreateWorkGroupCommand, GetQueryExecutionCommand, ListQueryExecutionsCommand } from '@aws-sdk/client-athena';
import { CreateCrawlerCommand, CreateDatabaseCommand } from '@aws-sdk/client-glue';
import { createAwsClients, type AwsClients } from '../../daemons/lib/aws.js';
import { createAthenaRunner } from '../../daemons/lib/athena/athena-runner.js';
import { createGlueCrawlerRunner } from '../../daemons/lib/catalog/glue-crawler.js';
import { oneLine } from '../../daemons/lib/errors.js';
import { createLogger } from '../../daemons/lib/log.js';
import { startTwin, type Twin, unique } from './crawl-helpers.js';

let twin: Twin;
let aws: AwsClients;
const log = createLogger({ daemon: 'athena-test', level: 'warn', stream: process.stderr });

async function motoApi(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${twin.endpoint}/moto-api/${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  if (res.status >= 300) throw new Error(`moto-api ${path}: ${res.status}`);
}

const transition = (model: string, times: number) => motoApi('state-manager/set-transition', { model_name: model, transition: { progression: 'manual', times } });
const immediate = (model: string) => motoApi('state-manager/set-transition', { model_name: model, transition: { progression: 'immediate' } });

function runner(over: Partial<Parameters<typeof createAthenaRunner>[0]> = {}) {
  const sleeps: number[] = [];
  const r = createAthenaRunner({
    athena: aws.athena,
    workgroup: 'kafkalake-test',
    database: 'kafkalake',
    outputLocation: 's3://kl-results/athena-results/',
    pollMinMs: 250,
    pollMaxMs: 2000,
    timeoutMs: 60_000,
    log,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    ...over,
  });
  return { r, sleeps };
}

test.before(async () => {
  twin = await startTwin();
  aws = createAwsClients(twin.config({ mode: 'aws', aws: { bucket: 'kl-results', accessKeyId: 'test', secretAccessKey: 'test' } }));
  await aws.athena.send(new CreateWorkGroupCommand({ Name: 'kafkalake-test', Configuration: { ResultConfiguration: { OutputLocation: 's3://kl-results/athena-results/' } } }));
});

test.after.always(async () => {
  aws?.destroy();
  await twin?.stop();
});

test.serial('a query: StartQueryExecution in the workgroup and database, polled with a doubling interval, header row dropped from the results', async (t) => {
  await transition('athena::execution', 4);
  await motoApi('static/athena/query-results', {
    results: [
      {
        column_info: [
          { Name: 'index', Type: 'varchar' },
          { Name: 'n', Type: 'bigint' },
        ],
        rows: [{ Data: [{ VarCharValue: 'index' }, { VarCharValue: 'n' }] }, { Data: [{ VarCharValue: 'HSI' }, { VarCharValue: '8492' }] }, { Data: [{ VarCharValue: 'N225' }, {}] }],
      },
    ],
  });
  const { r, sleeps } = runner();
  const res = await r.query('SELECT "index", count(*) AS n FROM stock_market_data GROUP BY 1', 'report x');
  t.deepEqual(res.columns, [
    { name: 'index', type: 'varchar' },
    { name: 'n', type: 'bigint' },
  ]);
  t.deepEqual(res.rows, [
    ['HSI', '8492'],
    ['N225', null],
  ]);
  t.true(res.polls >= 3, `polled ${res.polls} times`);
  t.deepEqual(sleeps.slice(0, 4), [250, 500, 1000, 2000]);
  t.is(res.pages, 1, 'moto answers in one page');
  const qe = (await aws.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: res.queryId }))).QueryExecution!;
  t.is(qe.Query, 'SELECT "index", count(*) AS n FROM stock_market_data GROUP BY 1');
  t.is(qe.WorkGroup, 'kafkalake-test');
  t.is(qe.QueryExecutionContext?.Database, 'kafkalake');
  t.is(res.outputLocation, `s3://kl-results/athena-results/${res.queryId}.csv`);
  const ids = (await aws.athena.send(new ListQueryExecutionsCommand({ WorkGroup: 'kafkalake-test' }))).QueryExecutionIds ?? [];
  t.true(ids.includes(res.queryId));
});

test.serial('a workgroup that does not exist: one line naming the workgroup and Athena’s reason', async (t) => {
  await immediate('athena::execution');
  const { r } = runner({ workgroup: 'no-such-workgroup' });
  const err = await t.throwsAsync(r.query('SELECT 1', 'report y'));
  t.regex(oneLine(err), /Athena refused the query in workgroup no-such-workgroup: .*WorkGroup does not exist/);
  t.notRegex(oneLine(err), /\n/);
});

test.serial('a query cancelled while it runs ends as an error saying CANCELLED', async (t) => {
  await transition('athena::execution', 1000);
  let id = '';
  const { r } = runner({
    sleep: async () => {
      if (!id) {
        const ids = (await aws.athena.send(new ListQueryExecutionsCommand({ WorkGroup: 'kafkalake-test' }))).QueryExecutionIds ?? [];
        id = ids[ids.length - 1] ?? '';
        const { StopQueryExecutionCommand } = await import('@aws-sdk/client-athena');
        await aws.athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
      }
    },
  });
  const err = await t.throwsAsync(r.query('SELECT 2', 'report z'));
  t.regex(err.message, /^query [0-9a-f-]+ CANCELLED: /);
});

test.serial('a query past the timeout is stopped and reported', async (t) => {
  await transition('athena::execution', 1000);
  let clock = 0;
  const { r, sleeps } = runner({
    timeoutMs: 5000,
    now: () => clock,
    sleep: (ms) => {
      clock += ms;
      sleeps.push(ms);
      return Promise.resolve();
    },
  });
  const err = await t.throwsAsync(r.query('SELECT 3'));
  t.regex(err.message, /still (QUEUED|RUNNING) after 5 s: stopped it/);
  const ids = (await aws.athena.send(new ListQueryExecutionsCommand({ WorkGroup: 'kafkalake-test' }))).QueryExecutionIds ?? [];
  const last = (await aws.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: ids[ids.length - 1] }))).QueryExecution;
  t.is(last?.Status?.State, 'CANCELLED');
  t.true(sleeps.length >= 3);
});

test.serial('the Glue crawler: started, polled until READY, last crawl status read; moto has no GetCrawlerMetrics', async (t) => {
  const name = unique('crawler');
  await aws.glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: name } }));
  await aws.glue.send(new CreateCrawlerCommand({ Name: name, Role: 'arn:aws:iam::123456789012:role/glue', DatabaseName: name, Targets: { S3Targets: [{ Path: 's3://kl-results/datalake/' }] } }));
  // moto advances a crawl only on ListCrawls, so GetCrawler sees it end only with immediate progression
  await immediate('glue::crawl');
  const sleeps: number[] = [];
  const report = await createGlueCrawlerRunner({
    glue: aws.glue,
    name,
    pollIntervalMs: 10_000,
    timeoutMs: 60_000,
    now: (() => {
      let clock = 0;
      return () => (clock += 1000);
    })(),
    log,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  }).run();
  t.is(report.status, 'COMPLETED');
  t.true(report.polls >= 1, `polled ${report.polls} times`);
  t.is(sleeps[0], 1000, 'the first poll comes soon, the next ones at the poll interval');
  t.regex(report.metricsError ?? '', /.+/, 'the twin does not implement GetCrawlerMetrics: the report says so');
});

test.serial('a crawler that does not exist: one line saying so', async (t) => {
  const err = await t.throwsAsync(createGlueCrawlerRunner({ glue: aws.glue, name: 'no-such-crawler', pollIntervalMs: 10, timeoutMs: 1000, log, sleep: () => Promise.resolve() }).run());
  t.is(oneLine(err), 'crawler no-such-crawler does not exist (Ansible or kafkalake bootstrap creates it)');
});

test.serial('a crawl already running is waited for, and a crawl past the timeout is stopped', async (t) => {
  const name = unique('crawler');
  await aws.glue.send(new CreateCrawlerCommand({ Name: name, Role: 'arn:aws:iam::123456789012:role/glue', DatabaseName: 'kafkalake', Targets: { S3Targets: [{ Path: 's3://kl-results/datalake/' }] } }));
  await transition('glue::crawl', 1000);
  const { StartCrawlerCommand, GetCrawlerCommand } = await import('@aws-sdk/client-glue');
  await aws.glue.send(new StartCrawlerCommand({ Name: name }));
  let clock = 0;
  const err = await t.throwsAsync(
    createGlueCrawlerRunner({
      glue: aws.glue,
      name,
      pollIntervalMs: 1000,
      timeoutMs: 4000,
      log,
      now: () => clock,
      sleep: (ms) => {
        clock += ms;
        return Promise.resolve();
      },
    }).run(),
  );
  t.regex(err.message, /still RUNNING after 4 s: asked it to stop/);
  const state = (await aws.glue.send(new GetCrawlerCommand({ Name: name }))).Crawler?.State;
  t.not(state, 'READY');
});
