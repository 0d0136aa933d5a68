// The crawl state (_state/crawler-<name>.json): every object the crawler has read (ETag, table,
// partition folders, rows, or why it was skipped) and every table's reconciled model. A re-crawl
// lists the targets, reads only objects whose ETag it has not seen, and adds only new partitions.
import type { Bucket } from '../../lib/catalog/objects.js';
import type { Column, Compression, Format } from '../../lib/catalog/shapes.js';
import { KafkalakeError } from '../../lib/errors.js';

export interface ObjectEntry {
  etag: string;
  size: number;
  table?: string;
  /** folders between the table folder and the file */
  folders?: string[];
  rows?: number;
  skipped?: string;
}

export interface TableEntry {
  target: string;
  tablePath: string;
  format: Format;
  compression: Compression;
  delimiter?: string;
  header?: boolean;
  columns: Column[];
  partitionKeys: string[];
  /** the partition folder paths ("year=2020") already in the catalog */
  partitions: string[];
  deprecated?: boolean;
}

export interface CrawlState {
  version: 1;
  crawler: string;
  database: string;
  lastCrawl?: string;
  /** recrawl policy CRAWL_NEW_FOLDERS_ONLY: the leaf folders crawled (bucket-relative, ending in "/"), not listed again */
  folders?: string[];
  objects: Record<string, ObjectEntry>;
  tables: Record<string, TableEntry>;
}

export const stateKey = (crawler: string) => `_state/crawler-${crawler}.json`;

export async function readState(bucket: Bucket, crawler: string, database: string): Promise<CrawlState> {
  const body = await bucket.get(stateKey(crawler));
  const fresh: CrawlState = { version: 1, crawler, database, objects: {}, tables: {} };
  if (!body) return fresh;
  let state: CrawlState;
  try {
    state = JSON.parse(body.toString('utf8')) as CrawlState;
  } catch (err) {
    throw new KafkalakeError('the crawl state is not valid JSON (delete it to crawl everything again)', { where: bucket.uri(stateKey(crawler)), cause: err });
  }
  // a state written for another database says nothing about this one's tables
  return state.version === 1 && state.database === database ? state : fresh;
}

export async function writeState(bucket: Bucket, state: CrawlState): Promise<void> {
  await bucket.put(stateKey(state.crawler), JSON.stringify(state), 'application/json');
}
