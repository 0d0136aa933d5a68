// `kafkalake run crawl` and the scheduler's crawl job: Glue's crawler in aws mode, kafkalake's own
// crawler (daemons/local/crawler) against the twin's Glue API in local mode.
import { createAwsClients } from '../lib/aws.js';
import { createGlueCrawlerRunner, type GlueCrawlReport } from '../lib/catalog/glue-crawler.js';
import { bucketOf } from '../lib/catalog/objects.js';
import type { Config } from '../lib/config/index.js';
import { KafkalakeError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { createCrawler, type CrawlReport } from '../local/crawler/crawler.js';

export type AnyCrawlReport = CrawlReport | GlueCrawlReport;

export async function runCrawl(config: Readonly<Config>, log: Logger): Promise<AnyCrawlReport> {
  const aws = createAwsClients(config);
  const clog = log.child({ component: 'crawl', crawler: config.crawl.crawlerName });
  try {
    if (config.mode === 'aws') {
      return await createGlueCrawlerRunner({
        glue: aws.glue,
        name: config.crawl.crawlerName,
        pollIntervalMs: config.crawl.pollIntervalMs,
        timeoutMs: config.crawl.timeoutMs,
        log: clog,
      }).run();
    }
    if (!config.aws.bucket) throw new KafkalakeError('aws.bucket is empty: the crawler needs the bucket of the lake', { where: 'config aws.bucket' });
    return await createCrawler({
      glue: aws.glue,
      bucket: bucketOf(aws.s3, config.aws.bucket),
      name: config.crawl.crawlerName,
      database: config.crawl.database,
      targets: config.crawl.targets.map((t) => ({ ...t, exclude: [...t.exclude] })),
      schemaChangePolicy: config.crawl.schemaChangePolicy,
      deleteBehavior: config.crawl.deleteBehavior,
      recrawlPolicy: config.crawl.recrawlPolicy,
      sampleBytes: config.crawl.sampleBytes,
      log: clog,
    }).run();
  } finally {
    aws.destroy();
  }
}

/** The lines `kafkalake run crawl` prints. */
export function describeCrawl(r: AnyCrawlReport): string[] {
  if (r.mode === 'aws') {
    const m = r.metricsError ? `metrics unavailable (${r.metricsError})` : `${r.tablesCreated} tables created, ${r.tablesUpdated} updated, ${r.tablesDeleted} deleted`;
    return [`crawl: Glue crawler ${r.crawler} ${r.status} in ${(r.durationMs / 1000).toFixed(1)} s; ${m}`];
  }
  const lines = [
    `crawl ${r.database}: ${r.objectsListed} objects listed${r.foldersListed !== undefined ? ` in ${r.foldersListed} folders (new folders only)` : ''}, ${r.objectsRead} read; tables created: ${r.tablesCreated.join(', ') || 'none'}; updated: ${r.tablesUpdated.join(', ') || 'none'}; ${r.partitionsAdded} partitions added`,
  ];
  if (r.tablesDeprecated.length) lines.push(`crawl: tables deprecated: ${r.tablesDeprecated.join(', ')}`);
  for (const l of r.logged) lines.push(`crawl: ${l}`);
  for (const s of r.skipped) lines.push(`crawl: skipped ${s.key}: ${s.reason}`);
  lines.push(`crawl: done in ${(r.durationMs / 1000).toFixed(1)} s`);
  return lines;
}
