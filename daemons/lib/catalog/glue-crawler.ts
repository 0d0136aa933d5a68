// aws mode: run the Glue crawler Ansible created. StartCrawler (a crawl already running is waited
// for, not an error), poll GetCrawler until the crawler is READY again after this crawl, read the last
// crawl's status and GetCrawlerMetrics (tables created/updated/deleted). A crawl past the timeout is stopped.
// "After this crawl": right after StartCrawler, GetCrawler can still answer READY with the previous crawl
// as LastCrawl; a READY counts only once the crawl was seen RUNNING (or STOPPING), or once LastCrawl's
// StartTime is later than the one read before the start (Glue's clock against Glue's, no skew).
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

  const notFound = (err: unknown) => new KafkalakeError(`crawler ${name} does not exist (Ansible or kafkalake bootstrap creates it)`, { where, cause: err, explainsCause: true });

  async function getCrawler() {
    try {
      return (await glue.send(new GetCrawlerCommand({ Name: name }))).Crawler;
    } catch (err) {
      if ((err as { name?: string }).name === 'EntityNotFoundException') throw notFound(err);
      throw wrap(err, where, 'cannot read the crawler state');
    }
  }

  async function start(): Promise<void> {
    try {
      await glue.send(new StartCrawlerCommand({ Name: name }));
    } catch (err) {
      const n = (err as { name?: string }).name;
      if (n === 'CrawlerRunningException') {
        log.info('crawler already running: waiting for that crawl', { crawler: name });
        return;
      }
      if (n === 'EntityNotFoundException') throw notFound(err);
      throw wrap(err, where, 'cannot start the crawler');
    }
  }

  async function run(): Promise<GlueCrawlReport> {
    const t0 = now();
    const previous = (await getCrawler())?.LastCrawl?.StartTime?.getTime();
    await start();
    let polls = 0;
    let seen = false;
    for (;;) {
      await sleep(polls === 0 ? Math.min(1000, deps.pollIntervalMs) : deps.pollIntervalMs);
      polls++;
      const crawler = await getCrawler();
      const state = crawler?.State ?? 'UNKNOWN';
      const last = crawler?.LastCrawl;
      const lastStart = last?.StartTime?.getTime();
      if (state === 'RUNNING' || state === 'STOPPING') seen = true;
      const thisCrawl = seen || (lastStart !== undefined && (previous === undefined || lastStart > previous));
      log.debug('crawler state', { crawler: name, state, polls, seen: thisCrawl });
      if (state === 'READY' && thisCrawl) {
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
        const secs = Math.round(deps.timeoutMs / 1000);
        if (!thisCrawl) {
          const prev = previous === undefined ? 'none' : new Date(previous).toISOString();
          throw new KafkalakeError(`crawler ${name}: the crawl started was not seen after ${secs} s (still ${state}, last crawl started ${prev}): asked it to stop`, { where, retriable: true });
        }
        throw new KafkalakeError(`crawler ${name} still ${state} after ${secs} s: asked it to stop`, { where, retriable: true });
      }
    }
  }

  return { run };
}
