// Every saved report, run in local mode over a lake built from indexProcessed.csv and catalogued by
// the crawler, equals the same computation done here in TypeScript from the CSV (reports-expected.ts).
// Also: where the results land (athena-results/<id>.csv, reports/<name>/<date>.csv), the history kept,
// the data-quality report over a lake with known defects and DLQ records, and over an empty DLQ right
// after `kafkalake bootstrap` (which creates the staging and DLQ tables the crawler then keeps up to date).
import test from 'ava';
import { parse } from 'csv-parse/sync';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { bucketOf } from '../../daemons/lib/catalog/objects.js';
import { runCrawl } from '../../daemons/jobs/crawl.js';
import { createQueryEngine } from '../../daemons/jobs/query.js';
import { createReporter, type ReportRun } from '../../daemons/lib/athena/reports.js';
import { runReports } from '../../daemons/jobs/report.js';
import { bootstrapAll } from '../../daemons/cli/bootstrap.js';
import { loadSavedQueries } from '../../daemons/lib/athena/saved.js';
import type { Config } from '../../daemons/lib/config/index.js';
import { createLogger } from '../../daemons/lib/log.js';
import { resolveFromRoot } from '../../daemons/lib/paths.js';
import { buildLakeFromCsv, type CsvRow, getText, listKeys, putParquet, putStaging, readCsv, startTwin, type Twin, unique } from './crawl-helpers.js';
import * as expected from './reports-expected.js';
import { resultCsv } from '../../daemons/lib/athena/result.js';
import { javaDouble } from '../../daemons/local/sql/values.js';

let twin: Twin;
let config: Readonly<Config>;
let csv: CsvRow[];
let runs: ReportRun[];
const ingestedAt = new Date(Date.now() - 3_600_000);
const log = createLogger({ daemon: 'reports-test', level: 'warn', stream: process.stderr });
const today = () => new Date().toISOString().slice(0, 10);

const DLQ = [
  { reason: 'not a JSON object', n: 3 },
  { reason: 'field "close" is not a double', n: 2 },
];

/** The CSV rows with their envelopes as the replay gives them: one partition per index (in name order), offsets in file order. */
function replayed(): expected.DqRow[] {
  const indexes = [...new Set(csv.map((r) => r.index))].sort();
  const seen = new Map<string, number>();
  return csv.map((r) => {
    const o = seen.get(r.index) ?? 0;
    seen.set(r.index, o + 1);
    return { ...r, partition: indexes.indexOf(r.index), offset: o };
  });
}

async function dataQuality(c: Readonly<Config>): Promise<Array<[string | undefined, string | undefined, number]>> {
  const [run] = await runReports(c, log, 'data_quality');
  if (!run?.ok) throw new Error(`data_quality failed: ${run?.error}`);
  const text = await getText(c, `reports/data_quality/${today()}.csv`);
  return (parse(text ?? '', { columns: true }) as Array<Record<string, string>>).map((r) => [r.check_name, r.detail, Number(r.value)]);
}

async function putDlq(c: Readonly<Config>): Promise<string[]> {
  const reasons: string[] = [];
  let offset = 1000;
  for (const { reason, n } of DLQ) {
    const rows = Array.from({ length: n }, () => ({ _topic: 'stock_market_data', _partition: 1, _offset: offset++, _timestamp: '2026-11-21T00:00:00Z', _key: 'HSI', reason, raw_base64: 'eyJ4Ijo=' }));
    await putStaging(c, rows, { dlq: true, partition: 1, first: rows[0]!._offset });
    reasons.push(...rows.map((r) => r.reason));
  }
  return reasons;
}

test.before(async () => {
  csv = readCsv();
  twin = await startTwin();
  const bucket = await twin.bucket();
  config = twin.config({ aws: { bucket }, crawl: { database: unique('kl_reports').replace(/-/g, '_'), crawlerName: unique('crawler') } });
  await buildLakeFromCsv(config, { ingestedAt });
  await putDlq(config);
  await runCrawl(config, log);
  runs = await runReports(config, log, 'all');
});

test.after.always(async () => {
  await twin?.stop();
});

test.serial('every saved query ran and wrote its report and its Athena-style result', async (t) => {
  const names = loadSavedQueries(resolveFromRoot('sql/reports')).map((q) => q.name);
  t.deepEqual(runs.map((r) => r.name), names);
  for (const r of runs) {
    t.true(r.ok, `${r.name}: ${r.error}`);
    const result = await getText(config, `athena-results/${r.queryId}.csv`);
    const rep = await getText(config, `reports/${r.name}/${today()}.csv`);
    t.truthy(result, `${r.name}: athena-results/${r.queryId}.csv`);
    t.is(rep, result, `${r.name}: the report file is the query's result`);
    t.is(r.outputLocation, `s3://${config.aws.bucket}/athena-results/${r.queryId}.csv`);
  }
});

const num = (s: string | undefined) => Number(s);

// Each report's file compared byte for byte with the CSV Athena writes for the rows computed from the CSV
// (reports-expected.ts): Athena's header, quoting and NULLs (resultCsv, pinned by result.test.ts), doubles
// as Java prints them (javaDouble, pinned by values.test.ts), integers, dates and timestamps as Trino does.
const D = (x: number) => javaDouble(x);
const athenaCsv = (header: string, rows: Array<Array<string | null>>) => resultCsv({ columns: header.split(',').map((name) => ({ name, type: '' })), rows });

async function reportText(name: string): Promise<string> {
  const text = await getText(config, `reports/${name}/${today()}.csv`);
  if (text === undefined) throw new Error(`no report file for ${name}`);
  return text;
}

test.serial('daily_ohlc is, byte for byte, the CSV Athena writes for the CSV’s last 30 days per index', async (t) => {
  const want = expected.dailyOhlc(csv);
  t.true(want.length > 100);
  t.is(await reportText('daily_ohlc'), athenaCsv('index,trade_date,open,high,low,close,volume,close_usd', want.map(([i, d, o, h, l, c, v, u]) => [i, d, D(o), D(h), D(l), D(c), String(v), D(u)])));
});

test.serial('yearly_ohlc is, byte for byte, the CSV Athena writes for the CSV grouped by index and year', async (t) => {
  const want = expected.yearlyOhlc(csv);
  t.is(await reportText('yearly_ohlc'), athenaCsv('index,trade_year,open,high,low,close,volume,trading_days', want.map(([i, y, o, h, l, c, v, n]) => [i, String(y), D(o), D(h), D(l), D(c), String(v), String(n)])));
});

test.serial('best_worst_days is, byte for byte, the CSV Athena writes for the five best and worst close-to-close returns per index', async (t) => {
  const want = expected.bestWorstDays(csv);
  t.is(await reportText('best_worst_days'), athenaCsv('index,kind,rank,trade_date,prev_close,close,daily_return', want.map(([i, k, r, d, p, c, ret]) => [i, k, String(r), d, D(p), D(c), D(ret)])));
});

test.serial('rolling_30d_close_usd is, byte for byte, the CSV Athena writes for a 30-row moving average (to 4 decimals) over the CSV', async (t) => {
  const want = expected.rolling30dCloseUsd(csv);
  t.is(await reportText('rolling_30d_close_usd'), athenaCsv('index,trade_date,close_usd,avg_close_usd_30d,days_in_window', want.map(([i, d, u, avg, n]) => [i, d, D(u), D(Math.round(avg * 1e4) / 1e4), String(n)])));
});

test.serial('freshness: latest trade date per index from the CSV, ingestion an hour ago, no event time in a CSV replay; byte for byte as Athena writes it', async (t) => {
  const text = await reportText('freshness');
  const got = parse(text, { columns: true }) as Array<Record<string, string>>;
  const want = expected.freshness(csv);
  t.deepEqual(
    got.map((r) => [r.index, r.latest_trade_date]),
    want.map((w) => [w.index, w.latestTradeDate]),
  );
  const now = Date.now();
  for (const r of got) {
    const days = Math.round((Date.parse(`${today()}T00:00:00Z`) - Date.parse(`${r.latest_trade_date}T00:00:00Z`)) / 86_400_000);
    t.true(Math.abs(num(r.days_since_trade) - days) <= 1, `${r.index}: ${r.days_since_trade} vs ${days}`);
    const secs = num(r.seconds_since_ingest);
    t.true(secs >= 3600 - 5 && secs <= (now - ingestedAt.getTime()) / 1000 + 5, `${r.index}: ${secs}`);
  }
  // the clock's two columns as the report has them (checked above); everything else computed here:
  // no event time is NULL (an empty field), the ingestion time a Glue timestamp (Trino's timestamp(3))
  const ingested = ingestedAt.toISOString().slice(0, 23).replace('T', ' ');
  const header = 'index,latest_trade_date,days_since_trade,latest_event_time,seconds_since_event,latest_ingested,seconds_since_ingest';
  t.is(text, athenaCsv(header, want.map((w, i) => [w.index, w.latestTradeDate, got[i]!.days_since_trade!, null, null, ingested, got[i]!.seconds_since_ingest!])));
});

test.serial('data_quality counts the defects of a lake with known bad rows, and the DLQ records by reason', async (t) => {
  const bucket = await twin.bucket();
  const dirty = twin.config({ aws: { bucket }, crawl: { database: unique('kl_dq').replace(/-/g, '_'), crawlerName: unique('crawler') } });
  await buildLakeFromCsv(dirty, { ingestedAt });
  const reasons = await putDlq(dirty);
  // the defects: high below low, a duplicate (index, trade_date), a NULL close and a negative volume,
  // and a row whose envelope repeats the first replayed record's (partition 0, offset 0)
  const bad: expected.DqRow[] = [
    { index: 'ZZZ', date: '2099-01-01', open: 1, high: 1, low: 2, close: 1.5, adjClose: 1.5, volume: 10, closeUsd: 1.5, partition: 50, offset: 0 },
    { index: 'ZZZ', date: '2099-01-01', open: 1, high: 3, low: 1, close: 4, adjClose: 4, volume: 10, closeUsd: 4, partition: 50, offset: 1 },
    { index: 'ZZZ', date: '2099-01-02', open: 1, high: 3, low: 1, close: null, adjClose: 2, volume: -5, closeUsd: 2, partition: 50, offset: 2 },
    { index: 'ZZZ', date: '2099-01-03', open: 1, high: 3, low: 1, close: 2, adjClose: 2, volume: 1, closeUsd: 2, partition: 0, offset: 0 },
  ];
  const v = (x: number | null) => (x === null ? 'NULL' : String(x));
  const values = bad.map((r) => `('${r.index}', DATE '${r.date}', ${v(r.open)}, ${v(r.high)}, ${v(r.low)}, ${v(r.close)}, ${v(r.adjClose)}, ${v(r.volume)}, ${v(r.closeUsd)}, ${r.partition}, ${r.offset})`).join(', ');
  await putParquet(
    dirty,
    'datalake/stock_market_data/year=2099/part-00000.parquet',
    `SELECT i AS "index", d AS trade_date, CAST(o AS DOUBLE) AS open, CAST(h AS DOUBLE) AS high, CAST(l AS DOUBLE) AS low, CAST(c AS DOUBLE) AS close,
       CAST(a AS DOUBLE) AS adj_close, CAST(vol AS BIGINT) AS volume, CAST(u AS DOUBLE) AS close_usd, CAST(NULL AS TIMESTAMPTZ) AS event_time,
       'stock_market_data' AS _topic, CAST(p AS INTEGER) AS _partition, CAST(off AS BIGINT) AS _offset, TIMESTAMPTZ '2026-11-21 00:00:00+00' AS _timestamp, i AS _key
     FROM (VALUES ${values}) t(i, d, o, h, l, c, a, vol, u, p, off)`,
  );
  await runCrawl(dirty, log);
  const [run] = await runReports(dirty, log, 'data_quality');
  t.true(run?.ok, run?.error);
  const text = await getText(dirty, `reports/data_quality/${today()}.csv`);
  const got = (parse(text ?? '', { columns: true }) as Array<Record<string, string>>).map((r) => [r.check_name, r.detail, num(r.value)]);
  const want = expected.dataQuality([...replayed(), ...bad], reasons);
  t.deepEqual(got, want);
  t.is(text, athenaCsv('check_name,detail,value', want.map(([c, d, n]) => [c, d, String(n)])), 'byte for byte as Athena writes it');
  t.deepEqual(
    got.filter((r) => r[2] !== 0 && r[0] !== 'row_count').map((r) => r[0]),
    ['close_outside_range', 'dlq_records', 'dlq_records', 'duplicate_envelope', 'duplicate_index_trade_date', 'high_below_low', 'negative_volume', 'null_values'],
    'every defect planted is found',
  );
});

test.serial('the history keeps the newest reports.keep files per report', async (t) => {
  const aws = createAwsClients(config);
  const engine = createQueryEngine(config, log);
  try {
    const days = ['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04', '2026-01-05'];
    for (const d of days) {
      const reporter = createReporter({ engine, bucket: bucketOf(aws.s3, config.aws.bucket), prefix: 'history-test/', keep: 3, log, now: () => new Date(`${d}T06:00:00Z`) });
      const r = await reporter.runOne({ name: 'yearly', description: '', schedule: '0 6 * * *', sql: 'SELECT count(*) AS n FROM stock_market_data', file: 'x.sql' });
      t.true(r.ok, r.error);
    }
    t.deepEqual(await listKeys(config, 'history-test/yearly/'), ['history-test/yearly/2026-01-03.csv', 'history-test/yearly/2026-01-04.csv', 'history-test/yearly/2026-01-05.csv']);
    t.is(await getText(config, 'history-test/yearly/2026-01-05.csv'), `"n"\n"${csv.length}"\n`);
  } finally {
    engine.close();
    aws.destroy();
  }
});

test.serial('after bootstrap, data_quality runs on an empty DLQ; the crawler then fills and updates the bootstrapped tables', async (t) => {
  const bucket = await twin.bucket();
  const c = twin.config({
    aws: { bucket },
    crawl: { database: unique('kl_boot').replace(/-/g, '_'), crawlerName: unique('crawler') },
    monitoring: { alarmPrefix: `${unique('boot')}-` },
  });
  const first = await bootstrapAll(c);
  // the lake table too: the ETL registers its partitions in it (protocol v3)
  for (const table of ['dlq_stock_market_data', 'staging_stock_market_data', 'stock_market_data']) {
    t.like(first.find((r) => r.resource === `glue table ${c.crawl.database}.${table}`), { result: 'created' }, table);
  }
  const second = await bootstrapAll(c);
  t.deepEqual(second.filter((r) => r.result !== 'unchanged'), [], 'a second bootstrap changes nothing');

  // the lake, catalogued; nothing dead-lettered yet
  await buildLakeFromCsv(c, { ingestedAt });
  const crawl1 = await runCrawl(c, log);
  if (crawl1.mode !== 'local') return t.fail('local crawl expected');
  t.deepEqual(crawl1.tablesCreated, [], 'bootstrap made every table');
  const empty = await dataQuality(c);
  t.deepEqual(empty, expected.dataQuality(replayed(), []));
  t.deepEqual(empty.filter((r) => r[0] === 'dlq_records'), [], 'an empty DLQ gives no dlq_records rows');

  // dead letters and a staged object arrive: the crawler adds their partitions to the bootstrapped tables
  const reasons = await putDlq(c);
  await putStaging(c, [{ index: 'HSI', date: '2026-11-20', open: 1, high: 2, low: 0.5, close: 1.5, adj_close: 1.5, volume: 3, close_usd: 0.2, _topic: 'stock_market_data', _partition: 0, _offset: 7, _timestamp: '2026-11-21T00:00:00Z', _key: 'HSI' }]);
  const crawl2 = await runCrawl(c, log);
  if (crawl2.mode !== 'local') return t.fail('local crawl expected');
  t.deepEqual(crawl2.tablesCreated, [], 'the tables existed: bootstrap made them');
  t.true(crawl2.partitionsAdded >= 2, `partitions added: ${crawl2.partitionsAdded}`);
  t.deepEqual(crawl2.skipped, []);
  const full = await dataQuality(c);
  t.deepEqual(full, expected.dataQuality(replayed(), reasons));
  t.deepEqual(
    full.filter((r) => r[0] === 'dlq_records').map((r) => [r[1], r[2]]),
    [
      ['field "close" is not a double', 2],
      ['not a JSON object', 3],
    ],
  );
  const engine = createQueryEngine(c, log);
  try {
    const staged = await engine.query('SELECT count(*) AS n, max(_offset) AS o FROM staging_stock_market_data');
    t.deepEqual(staged.rows, [['1', '7']]);
  } finally {
    engine.close();
  }
});
