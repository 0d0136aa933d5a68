// What the console's browser test and its benchmark share: Debian's chromium driven by puppeteer-core (no
// browser download), `kafkalake console` started as users start it, and a page opened with every console
// error, failed request and error response collected.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { runCrawl } from '../../daemons/jobs/crawl.js';
import { runReports } from '../../daemons/jobs/report.js';
import type { Config } from '../../daemons/lib/config/index.js';
import { createLogger } from '../../daemons/lib/log.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { buildLakeFromCsv } from '../integration/crawl-helpers.js';
import { heartbeats, world, worldOverrides } from '../integration/status-helpers.js';
import { type TestStack, unique } from './stack.js';

export const CHROMIUM = process.env.KAFKALAKE_CHROMIUM ?? '/usr/bin/chromium';
const CLI = `${PROJECT_ROOT}/dist/daemons/cli/main.js`;

export function launchBrowser(): Promise<Browser> {
  // --no-sandbox: the tests run as root, where chromium's sandbox cannot start
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

/** `kafkalake console --port 0 --config FILE`; resolves with its printed address. */
export function startConsole(file: string, children: ChildProcess[]): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'console', '--config', file, '--port', '0'], { env: { ...process.env, NODE_NO_WARNINGS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`console did not print its address in 30 s: ${err}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /kafkalake console: (http:\/\/\S+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`console exited ${code}: ${err}`));
    });
  });
}

/** A new page at `url`, resolved once the page's first poll has drawn every part; with the errors seen. */
export async function openConsole(browser: Browser, url: string): Promise<{ page: Page; errors: string[]; ms: number }> {
  const page = await browser.newPage();
  await page.setCacheEnabled(false);
  await page.setViewport({ width: 1400, height: 1600 });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => errors.push(`${r.url()}: ${r.failure()?.errorText ?? 'failed'}`));
  const t0 = performance.now();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction('(window.kafkalakeConsole?.polls ?? 0) >= 1', { timeout: 30_000, polling: 10 });
  return { page, errors, ms: performance.now() - t0 };
}

const log = createLogger({ daemon: 'console-world', level: 'error', stream: process.stderr });

/**
 * What the console is shown: status-helpers' world, bootstrapped, the daemons' metrics, and the yearly_ohlc
 * report run over the dataset's lake (catalogued by the local crawler).
 */
export async function consoleWorld(stack: TestStack, extra: { aws?: Record<string, unknown> } = {}): Promise<{ file: string; config: Readonly<Config>; topic: string }> {
  const w = await world(stack);
  const namespace = unique('KLConsole');
  const overrides = worldOverrides(w, namespace, { ...extra, crawl: { database: unique('kl_console').replace(/-/g, '_'), crawlerName: unique('crawler') } });
  const file = stack.configFile(overrides);
  const config = stack.config(overrides);
  const boot = spawnSync(process.execPath, [CLI, 'bootstrap', '--config', file], { encoding: 'utf8', timeout: 120_000 });
  if (boot.status !== 0) throw new Error(`bootstrap failed: ${boot.stderr.trim().split('\n').pop() ?? ''}`);
  await heartbeats(stack, namespace, ['consumer', 'scheduler'], w.topic);
  await buildLakeFromCsv(config);
  await runCrawl(config, log);
  const [run] = await runReports(config, log, 'yearly_ohlc');
  if (!run?.ok) throw new Error(`yearly_ohlc failed: ${run?.error}`);
  return { file, config, topic: w.topic };
}
