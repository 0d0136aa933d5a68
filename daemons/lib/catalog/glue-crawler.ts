// aws mode: run the Glue crawler Ansible created. StartCrawler (a crawl already running is waited
// for, not an error), poll GetCrawler until the crawler is READY again, read the last crawl's
// status and GetCrawlerMetrics (tables created/updated/deleted). A crawl past the timeout is stopped.
import { GetCrawlerCommand, GetCrawlerMetricsCommand, type GlueClient, StartCrawlerCommand, StopCrawlerCommand } from '@aws-sdk/client-glue';
import { KafkalakeError, oneLine, wrap } from '../errors.js';
import type { Logger } from '../log.js';

export interface GlueCrawlReport {
  crawler: string;
  mode: 'aws';
  durationMs: number;
  polls: number;
  /** the last crawl's status as Glue reports it: SUCCEEDED, CANCELLED, FAILED */
  status: string;
  tablesCreated?: number;
  tablesUpdated?: number;
  tablesDeleted?: number;
  /** why the metrics could not be read, when they could not */
  metricsError?: string;
}

export interface GlueCrawlerDeps {
  glue: GlueClient;
  name: string;
  pollIntervalMs: number;
  timeoutMs: number;
  log: Logger;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const SUCCEEDED = new Set(['SUCCEEDED', 'COMPLETED']); // COMPLETED: what the twin (moto) reports

export function createGlueCrawlerRunner(deps: GlueCrawlerDeps) {
  const { glue, name, log } = deps;
  const sleep = deps.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const where = `glue crawler ${name}`;

  async function start(): Promise<void> {
    try {
      await glue.send(new StartCrawlerCommand({ Name: name }));
    } catch (err) {
      const n = (err as { name?: string }).name;
      if (n === 'CrawlerRunningException') {
        log.info('crawler already running: waiting for that crawl', { crawler: name });
        return;
      }
      if (n === 'EntityNotFoundException') throw new KafkalakeError(`crawler ${name} does not exist (Ansible or kafkalake bootstrap creates it)`, { where, cause: err, explainsCause: true });
      throw wrap(err, where, 'cannot start the crawler');
    }
  }

  async function run(): Promise<GlueCrawlReport> {
    const t0 = now();
    await start();
    let polls = 0;
    for (;;) {
      await sleep(polls === 0 ? Math.min(1000, deps.pollIntervalMs) : deps.pollIntervalMs);
      polls++;
      let crawler;
      try {
        crawler = (await glue.send(new GetCrawlerCommand({ Name: name }))).Crawler;
      } catch (err) {
        throw wrap(err, where, 'cannot read the crawler state');
      }
      const state = crawler?.State ?? 'UNKNOWN';
      log.debug('crawler state', { crawler: name, state, polls });
      if (state === 'READY') {
        const last = crawler?.LastCrawl;
        const status = last?.Status ?? 'UNKNOWN';
        if (!SUCCEEDED.has(status)) {
          throw new KafkalakeError(`crawler ${name} ended ${status}${last?.ErrorMessage ? `: ${last.ErrorMessage}` : ''}`, { where });
        }
        const report: GlueCrawlReport = { crawler: name, mode: 'aws', durationMs: now() - t0, polls, status };
        try {
          const m = (await glue.send(new GetCrawlerMetricsCommand({ CrawlerNameList: [name] }))).CrawlerMetricsList?.[0];
          if (m) Object.assign(report, { tablesCreated: m.TablesCreated ?? 0, tablesUpdated: m.TablesUpdated ?? 0, tablesDeleted: m.TablesDeleted ?? 0 });
        } catch (err) {
          report.metricsError = oneLine(err);
        }
        return report;
      }
      if (now() - t0 > deps.timeoutMs) {
        try {
          await glue.send(new StopCrawlerCommand({ Name: name }));
        } catch (err) {
          log.warn('cannot stop the crawler', { crawler: name, err: oneLine(err) });
        }
        throw new KafkalakeError(`crawler ${name} still ${state} after ${Math.round(deps.timeoutMs / 1000)} s: asked it to stop`, { where, retriable: true });
      }
    }
  }

  return { run };
}
