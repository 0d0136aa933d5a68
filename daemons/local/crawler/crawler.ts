// kafkalake's crawler for local mode: what a Glue crawler does, through the (twin's) Glue API.
// One crawl: read the state, list every target, read the objects not seen before (content
// classification, schema from the Parquet footer or a JSON/CSV sample), reconcile each table's
// schema, create or update the tables as the schema change policy says, add the new partitions,
// handle objects that are gone as the delete behaviour says, write the state.
// With the recrawl policy CRAWL_NEW_FOLDERS_ONLY (as Glue's) a crawl lists folder by folder and only
// the folders it has not crawled before: its cost follows the new folders, not the bucket. Objects
// added to a crawled folder are not read (the folder's partition is catalogued already, so queries
// see them) and gone objects are not noticed, so Glue allows this policy only with LOG/LOG.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { GlueClient } from '@aws-sdk/client-glue';
import { DuckDBInstance } from '@duckdb/node-api';
import { type Bucket, type ObjectInfo, pool } from '../../lib/catalog/objects.js';
import { glueCatalog } from '../../lib/catalog/glue-catalog.js';
import { KafkalakeError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { visibleIn } from '../../lib/etl/lake.js';
import { type CrawlTarget, excluded, isHidden, place, partitionFolders } from './layout.js';
import { objectReader, type ReadObject } from './reader.js';
import { type CrawlState, readState, writeState } from './state.js';
import { reconcileTable, type TableOutcome, writeTable } from './tables.js';

export type SchemaChangePolicy = 'UPDATE_IN_DATABASE' | 'LOG';
export type DeleteBehavior = 'LOG' | 'DEPRECATE_IN_DATABASE';
export type RecrawlPolicy = 'CRAWL_EVERYTHING' | 'CRAWL_NEW_FOLDERS_ONLY';

export interface CrawlerDeps {
  glue: GlueClient;
  bucket: Bucket;
  name: string;
  database: string;
  targets: CrawlTarget[];
  schemaChangePolicy: SchemaChangePolicy;
  deleteBehavior: DeleteBehavior;
  /** default CRAWL_EVERYTHING */
  recrawlPolicy?: RecrawlPolicy;
  log: Logger;
  /** bytes read from the start of a JSON/CSV object to infer its schema */
  sampleBytes?: number;
  concurrency?: number;
  workDir?: string;
  now?: () => Date;
}

export interface CrawlReport {
  crawler: string;
  database: string;
  mode: 'local';
  durationMs: number;
  recrawlPolicy: RecrawlPolicy;
  objectsListed: number;
  /** CRAWL_NEW_FOLDERS_ONLY: folders listed (one LIST each, paged) */
  foldersListed?: number;
  objectsRead: number;
  tablesCreated: string[];
  tablesUpdated: string[];
  tablesUnchanged: string[];
  tablesDeprecated: string[];
  partitionsAdded: number;
  /** schema changes seen but not applied (policy LOG), deletions logged (behaviour LOG) */
  logged: string[];
  skipped: Array<{ key: string; reason: string }>;
}

export function createCrawler(deps: CrawlerDeps) {
  const { bucket, log } = deps;
  const now = deps.now ?? (() => new Date());
  const catalog = glueCatalog(deps.glue, deps.database);

  const recrawl = deps.recrawlPolicy ?? 'CRAWL_EVERYTHING';
  if (recrawl === 'CRAWL_NEW_FOLDERS_ONLY' && (deps.schemaChangePolicy !== 'LOG' || deps.deleteBehavior !== 'LOG')) {
    throw new KafkalakeError('the recrawl policy CRAWL_NEW_FOLDERS_ONLY needs the schema change policy LOG and the delete behaviour LOG (as Glue requires)', {
      where: `crawler ${deps.name}`,
    });
  }
  // a folder below the target starting with _ or . is hidden (Athena's rule): the ETL's generation folders
  // (_vNNNNNN/) are found through the partitions it moves, never as partitions of their own
  const visible = (t: CrawlTarget, key: string) => !isHidden(key) && visibleIn(t.path, key) && !excluded(t, key);

  async function listTarget(t: CrawlTarget): Promise<ObjectInfo[]> {
    return (await bucket.list(t.path)).filter((o) => visible(t, o.key));
  }

  /**
   * The objects in the target's folders not crawled before, level by level. A folder holding objects and
   * no subfolder is a leaf: once crawled it is not listed again; other folders are listed every time
   * (new partition folders appear under them).
   */
  async function listNewFolders(t: CrawlTarget, crawled: ReadonlySet<string>): Promise<{ objects: ObjectInfo[]; leaves: string[]; listed: number }> {
    const objects: ObjectInfo[] = [];
    const leaves: string[] = [];
    let listed = 0;
    let level = [t.path];
    while (level.length) {
      const next: string[] = [];
      await pool(level, deps.concurrency ?? 8, async (prefix) => {
        const l = await bucket.listFolder(prefix);
        listed++;
        const mine = l.objects.filter((o) => visible(t, o.key));
        objects.push(...mine);
        const subfolders = l.folders.filter((f) => !excluded(t, f));
        if (mine.length && !subfolders.length) leaves.push(prefix);
        for (const f of subfolders) if (!crawled.has(f)) next.push(f);
      });
      level = next.sort();
    }
    return { objects, leaves, listed };
  }

  async function run(): Promise<CrawlReport> {
    const started = Date.now();
    const report: CrawlReport = {
      crawler: deps.name,
      database: deps.database,
      mode: 'local',
      durationMs: 0,
      recrawlPolicy: recrawl,
      objectsListed: 0,
      objectsRead: 0,
      tablesCreated: [],
      tablesUpdated: [],
      tablesUnchanged: [],
      tablesDeprecated: [],
      partitionsAdded: 0,
      logged: [],
      skipped: [],
    };
    const state: CrawlState = await readState(bucket, deps.name, deps.database);
    await catalog.ensureDatabase('kafkalake: the lake, staging and DLQ tables (written by the kafkalake crawler)');
    const dir = await mkdtemp(path.join(deps.workDir ?? os.tmpdir(), 'kafkalake-crawl-'));
    const instance = await DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '256MB', temp_directory: dir });
    const conn = await instance.connect();
    try {
      const reader = objectReader(bucket, conn, dir, deps.sampleBytes ?? 1024 * 1024);
      const listed = new Map<string, { target: CrawlTarget; o: ObjectInfo }>();
      const touched = new Set<string>();
      if (recrawl === 'CRAWL_NEW_FOLDERS_ONLY') {
        const crawled = new Set(state.folders ?? []);
        report.foldersListed = 0;
        for (const t of deps.targets) {
          const found = await listNewFolders(t, crawled);
          for (const o of found.objects.sort((a, b) => a.key.localeCompare(b.key))) listed.set(o.key, { target: t, o });
          for (const f of found.leaves) crawled.add(f);
          report.foldersListed += found.listed;
        }
        state.folders = [...crawled].sort();
      } else {
        for (const t of deps.targets) for (const o of await listTarget(t)) listed.set(o.key, { target: t, o });
        // objects that are gone: drop them from the state, remember their tables
        for (const [key, e] of Object.entries(state.objects)) {
          if (listed.has(key)) continue;
          if (e.table) touched.add(e.table);
          delete state.objects[key];
        }
      }
      report.objectsListed = listed.size;

      // new or changed objects: read them
      const fresh = [...listed.values()].filter(({ o }) => state.objects[o.key]?.etag !== o.etag);
      const reads = new Map<string, ReadObject>();
      await pool(fresh, deps.concurrency ?? 8, async ({ target, o }) => {
        const r = await reader.read(o);
        report.objectsRead++;
        const p = place(target, o.key);
        if ('skip' in r) {
          state.objects[o.key] = { etag: o.etag, size: o.size, skipped: r.skip };
          report.skipped.push({ key: o.key, reason: r.skip });
          return;
        }
        reads.set(o.key, r);
        state.objects[o.key] = { etag: o.etag, size: o.size, table: p.table, folders: partitionFolders(p.tablePath, o.key), ...(r.rows !== undefined ? { rows: r.rows } : {}) };
        touched.add(p.table);
      });

      // per table: reconcile the new objects into the model, then write the catalog
      const byTable = new Map<string, Array<{ key: string; target: CrawlTarget; read: ReadObject }>>();
      for (const [key, read] of reads) {
        const { target } = listed.get(key)!;
        const table = state.objects[key]!.table!;
        byTable.set(table, [...(byTable.get(table) ?? []), { key, target, read }]);
      }
      for (const table of [...touched].sort()) {
        const outcome: TableOutcome = reconcileTable(state, table, byTable.get(table) ?? []);
        for (const s of outcome.skipped) report.skipped.push(s);
        if (!outcome.entry) continue;
        await writeTable({ catalog, state, table, entry: outcome.entry, bucket, crawler: deps.name, policy: deps.schemaChangePolicy, deletes: deps.deleteBehavior, report, log, now });
      }
    } finally {
      conn.closeSync();
      instance.closeSync();
      await rm(dir, { recursive: true, force: true });
    }
    state.lastCrawl = now().toISOString();
    await writeState(bucket, state);
    report.skipped.sort((a, b) => a.key.localeCompare(b.key));
    report.durationMs = Date.now() - started;
    log.info('crawl done', { ...report, skipped: report.skipped.length });
    return report;
  }

  return { run };
}
