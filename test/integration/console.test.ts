// `kafkalake console` in a real browser (Debian's chromium, headless, driven by puppeteer-core): the
// page loads with no console error, shows the numbers `kafkalake status --json` gives for the same
// pipeline, draws a saved report with one series per index, keeps a screenshot, stays read-only and sends
// no secret; and against an empty bucket every part says what it lacks instead of going blank.
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { parse } from 'csv-parse/sync';
import type { Browser, Page } from 'puppeteer-core';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import type { StatusReport } from '../../daemons/cli/status-report.js';
import { consoleWorld, launchBrowser, openConsole, startConsole } from '../helpers/console.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';
import { getText } from './crawl-helpers.js';

const ARTEFACTS = path.join(PROJECT_ROOT, '.kafkalake', 'artefacts');
const CLI = `${PROJECT_ROOT}/dist/daemons/cli/main.js`;
const SECRET = 'kl-console-secret-6d1f0c';
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NODE_NO_WARNINGS: '1' } });

let stack: TestStack;
let browser: Browser;
const consoles: ChildProcess[] = [];

test.before(async () => {
  stack = await startTestStack();
  browser = await launchBrowser();
});
test.after.always(async () => {
  for (const c of consoles) c.kill('SIGTERM');
  await browser?.close();
  await stack?.stop();
});

// the page's side is written as text: this project's TypeScript has no DOM types
const text = (page: Page, sel: string) => page.evaluate(`document.querySelector(${JSON.stringify(sel)}).innerText`) as Promise<string>;

test.serial('the page shows the running pipeline as status --json does, and a saved report as a chart with one series per index', async (t) => {
  const { file, config, topic } = await consoleWorld(stack, { aws: { accessKeyId: 'AKIAKLCONSOLETEST', secretAccessKey: SECRET } });
  const csv = parse((await getText(config, `reports/yearly_ohlc/${new Date().toISOString().slice(0, 10)}.csv`)) ?? '', { columns: true }) as Array<Record<string, string>>;
  const indexes = new Set(csv.map((r) => r.index)).size;

  const url = await startConsole(file, consoles);
  t.regex(url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'binds 127.0.0.1 unless told otherwise');
  const j = cli(['status', '--config', file, '--json']);
  const status = JSON.parse(j.stdout) as StatusReport;
  const { page, errors } = await openConsole(browser, url);
  await page.waitForFunction("document.querySelector('#chart-report')?.dataset.series !== undefined", { timeout: 30_000 });

  // the flow: what status --json says, stage by stage
  t.is(await text(page, '#health'), status.healthy ? 'healthy' : 'unhealthy');
  const consumer = await text(page, '[data-stage="consumer"]');
  t.true(status.rates.ok && consumer.includes(`in ${status.rates.value.recordsInPerS.toLocaleString('en-US')}/s`), consumer);
  t.true(status.lag.ok && consumer.includes(`lag ${status.lag.value.total.toLocaleString('en-US')}`), consumer);
  const staging = await text(page, '[data-stage="staging"]');
  t.true(status.dlq.ok && staging.includes(`${status.dlq.value.objects} DLQ objects`), staging);
  t.true((await text(page, '[data-stage="topic"]')).includes(topic));
  t.regex(await text(page, '[data-stage="ETL"]'), /^ETL\s+succeeded .* ago, 1\.2 s/);
  // the job history and the dead letter
  t.regex(await text(page, '#jobs'), /etl\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+1\.2 s\s+succeeded/);
  t.true((await text(page, '#dlq')).includes(`staging/_dlq/${topic}/`));
  t.regex(await text(page, '#dlq-reasons'), /consumer\s+not-json\s+2/);
  // a row opens the object's records, as `kafkalake dlq show` prints them
  await page.click('#dlq tbody tr.clickable');
  await page.waitForFunction("document.querySelector('#dlq-show').innerText.includes('not-json')", { timeout: 10_000 });
  t.is(((await page.evaluate("JSON.parse(document.querySelector('#dlq-show').innerText)")) as Array<{ _offset: number }>).map((l) => l._offset).join(','), '0,5');
  // the metrics: the consumer's 600 records in one minute's period, 10 a second
  const rates = (await page.evaluate("Chart.getChart(document.querySelector('#chart-rates')).data.datasets.map((d) => [d.label, d.data.reduce((n, p) => n + p.y, 0)])")) as Array<[string, number]>;
  t.deepEqual(rates, [['records in', 10], ['records staged', 10], ['records dead-lettered', 0]]);
  const fresh = (await page.evaluate("Chart.getChart(document.querySelector('#chart-freshness')).data.datasets.map((d) => [d.label, Math.max(...d.data.map((p) => p.y))])")) as Array<[string, number]>;
  t.deepEqual(fresh, [['send → staged (max)', 2.5], ['send → lake (max)', 7.5]]);

  // the report: yearly_ohlc chosen, one series per index, its table holds the file's rows
  await page.select('#report-name', 'yearly_ohlc');
  await page.waitForFunction("document.querySelector('#report-where')?.textContent?.includes('rows')", { timeout: 30_000 });
  const drawn = (await page.evaluate(`(() => {
    const canvas = document.querySelector('#chart-report');
    return { series: Chart.getChart(canvas).data.datasets.length, rows: document.querySelectorAll('#report tbody tr').length, width: canvas.width };
  })()`)) as { series: number; rows: number; width: number };
  t.is(drawn.series, indexes);
  t.is(drawn.rows, csv.length);
  t.true(drawn.width > 100, 'the chart has a size');

  // it refreshes itself: a second poll comes without a reload
  await page.waitForFunction('window.kafkalakeConsole.polls >= 2', { timeout: 15_000 });
  mkdirSync(ARTEFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTEFACTS, 'console.png'), fullPage: true });
  t.deepEqual(errors, [], 'no console error');

  // read-only, no secret in any answer
  const post = await fetch(`${url}api/status`, { method: 'POST' });
  t.is(post.status, 405);
  for (const p of ['', 'api/status', 'api/series', 'api/jobs', 'api/dlq', 'api/reports', 'api/reports/yearly_ohlc']) {
    const body = await (await fetch(`${url}${p}`)).text();
    t.false(body.includes(SECRET) || body.includes('AKIAKLCONSOLETEST'), `${p || '/'} sends no credential`);
  }
  t.is((await fetch(`${url}api/nothing`)).status, 404);
  const bad = await fetch(`${url}api/series?partitions=0;DROP`);
  t.is(bad.status, 400);
  t.regex(((await bad.json()) as { error: string }).error, /partitions must be a list of partition numbers/);
  // the lag per partition, for the partitions Kafka names: 0 and 1 of the world's topic
  const series = (await (await fetch(`${url}api/series?partitions=0,1`)).json()) as { lag: Array<{ name: string }> };
  t.deepEqual(series.lag.map((l) => l.name), ['partition 0', 'partition 1']);
  await page.close();
});

test.serial('an empty bucket: every part says what it lacks, the page never goes blank', async (t) => {
  const bucket = await stack.bucket();
  const file = stack.configFile({ aws: { bucket }, kafka: { topic: unique('empty') }, metrics: { namespace: unique('KLEmpty') } });
  const { page, errors } = await openConsole(browser, await startConsole(file, consoles));
  await page.waitForFunction("document.querySelector('#report-where')?.textContent !== ''", { timeout: 30_000 });
  t.is(await text(page, '#rates-empty'), 'no metrics yet');
  t.regex(await text(page, '#dlq'), /no dead letters/);
  t.regex(await text(page, '#jobs'), /no run yet/);
  t.regex(await text(page, '#report-where'), /not run yet/);
  t.is(await text(page, '#health'), 'unhealthy');
  t.true((await text(page, '#flow')).includes('producer'));
  t.deepEqual(errors, [], 'no console error');
  await page.close();
});

test.serial('a bad port, a port in use or an address not of this machine: one line each, no stack trace', async (t) => {
  const bucket = await stack.bucket();
  const file = stack.configFile({ aws: { bucket } });
  const bad = cli(['console', '--config', file, '--port', 'http']);
  t.is(bad.status, 2);
  t.is(bad.stderr.trim(), 'kafkalake: --port must be a whole number ≥ 0, got "http"');
  const url = await startConsole(file, consoles);
  const port = new URL(url).port;
  const busy = cli(['console', '--config', file, '--port', port]);
  t.is(busy.status, 2);
  t.is(busy.stderr.trim(), `kafkalake: port ${port} on 127.0.0.1 is in use: choose another with --port`);
  const away = cli(['console', '--config', file, '--port', '0', '--host', '192.0.2.1']);
  t.is(away.status, 2);
  t.is(away.stderr.trim(), 'kafkalake: cannot listen on 192.0.2.1: not an address of this machine (--host)');
});
