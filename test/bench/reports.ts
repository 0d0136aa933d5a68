// Benchmark of the catalog and the saved reports in local mode: each report's latency through
// kafkalake's engine (catalog lookup, cache, snapshot, read-only DuckDB, result written to the twin's
// S3) over the CSV's lake and over a simulated lake of 10,000,000 rows (1,000,000 with --quick), with
// plain DuckDB over the same local Parquet files as the anchor; and an incremental crawl of 10 new
// objects among 10,000 against the full crawl of the 10,000, with the default recrawl policy (list every
// object) and with CRAWL_NEW_FOLDERS_ONLY (list only folders not crawled before).
import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { bucketOf, pool } from '../../daemons/lib/catalog/objects.js';
import { runCrawl } from '../../daemons/jobs/crawl.js';
import { createQueryEngine } from '../../daemons/jobs/query.js';
import { loadSavedQueries } from '../../daemons/lib/athena/saved.js';
import type { Config } from '../../daemons/lib/config/index.js';
import { createLogger } from '../../daemons/lib/log.js';
import { PROJECT_ROOT, resolveFromRoot } from '../../daemons/lib/paths.js';
import type { CrawlReport } from '../../daemons/local/crawler/crawler.js';
import { createCrawler } from '../../daemons/local/crawler/crawler.js';
import { buildLakeFromCsv, putParquet, putStaging, startTwin, type Twin, unique } from '../integration/crawl-helpers.js';
import { type Benchmark, fmt, machine, median } from './harness.js';

const log = createLogger({ daemon: 'bench-reports', level: 'error', stream: process.stderr });
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

async function putDlq(c: Readonly<Config>): Promise<void> {
  const rows = Array.from({ length: 5 }, (_, i) => ({ _topic: 'stock_market_data', _partition: 0, _offset: i, _timestamp: '2026-11-21T00:00:00Z', _key: 'X', reason: i % 2 ? 'not a JSON object' : 'field "close" is not a double', raw_base64: 'eA==' }));
  await putStaging(c, rows, { dlq: true });
}

/** Download the lake (and DLQ) objects to a dir, for the anchor. */
async function mirror(c: Readonly<Config>, dir: string): Promise<{ lake: string[]; dlq: string[] }> {
  const aws = createAwsClients(c);
  try {
    const b = bucketOf(aws.s3, c.aws.bucket);
    const objs = [...(await b.list('datalake/stock_market_data/')), ...(await b.list('staging/_dlq/'))];
    const out = { lake: [] as string[], dlq: [] as string[] };
    await pool(objs, 8, async (o, i) => {
      const f = path.join(dir, `${i}-${path.basename(o.key)}`);
      await b.download(o.key, f);
      (o.key.startsWith('datalake/') ? out.lake : out.dlq).push(f);
    });
    return out;
  } finally {
    aws.destroy();
  }
}

async function timeReports(c: Readonly<Config>, runs: number, say: (l: string) => void) {
  const queries = loadSavedQueries(resolveFromRoot('sql/reports'));
  const engine = createQueryEngine(c, log);
  const out: Array<{ name: string; first: number; times: number[]; rows: number }> = [];
  try {
    for (const q of queries) {
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        rows = (await engine.query(q.sql, `report ${q.name}`)).rows.length;
        times.push(performance.now() - t0);
      }
      say(`bench reports: ${q.name} ${times.map((t) => Math.round(t)).join(', ')} ms`);
      out.push({ name: q.name, first: times[0]!, times, rows });
    }
  } finally {
    engine.close();
  }
  return out;
}

async function timeAnchor(files: { lake: string[]; dlq: string[] }, runs: number): Promise<Map<string, number>> {
  const db = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '1024MB' });
  const conn = await db.connect();
  const res = new Map<string, number>();
  try {
    await conn.run(`SET TimeZone='UTC'`);
    await conn.run(`CREATE VIEW stock_market_data AS SELECT * FROM read_parquet([${files.lake.map(lit).join(', ')}], union_by_name = true)`);
    await conn.run(`CREATE VIEW dlq_stock_market_data AS SELECT * FROM read_json([${files.dlq.map(lit).join(', ')}], format = 'newline_delimited')`);
    for (const q of loadSavedQueries(resolveFromRoot('sql/reports'))) {
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await conn.runAndReadAll(q.sql);
        times.push(performance.now() - t0);
      }
      res.set(q.name, median(times));
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return res;
}

export async function reportTable(twin: Twin, label: string, build: (c: Readonly<Config>) => Promise<number>, say: (l: string) => void): Promise<string> {
  const bucket = await twin.bucket();
  const c = twin.config({ aws: { bucket }, crawl: { database: unique('bench').replace(/-/g, '_'), crawlerName: unique('crawler') }, reports: { memoryMb: 1536 } });
  const rows = await build(c);
  await putDlq(c);
  const crawl = (await runCrawl(c, log)) as CrawlReport;
  say(`bench reports: ${label}: ${fmt(rows)} rows, crawled ${crawl.objectsRead} objects in ${fmt(crawl.durationMs)} ms`);
  const times = await timeReports(c, 5, say);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kafkalake-bench-anchor-'));
  try {
    const anchor = await timeAnchor(await mirror(c, dir), 5);
    const lines = [
      `### ${label} (${fmt(rows)} rows; crawl of ${crawl.objectsRead} objects: ${fmt(crawl.durationMs)} ms)`,
      '',
      '| report | result rows | first run (cold: download + snapshot load), ms | median of 5, ms (min–max) | anchor: plain DuckDB over local Parquet, median of 5, ms | ratio (median / anchor) |',
      '|---|---|---|---|---|---|',
      ...times.map((r) => {
        const m = median(r.times);
        const a = anchor.get(r.name) ?? NaN;
        return `| ${r.name} | ${fmt(r.rows)} | ${fmt(r.first)} | ${fmt(m)} (${fmt(Math.min(...r.times))}–${fmt(Math.max(...r.times))}) | ${fmt(a)} | ${fmt(m / a, 1)} |`;
      }),
    ];
    return lines.join('\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The local engine before sqlglot (the hand-written macro dialect; issue 20 asks the saved reports to stay
 * within 1.2× of its latency): that commit checked out in a scratch worktree, built with this checkout's
 * node_modules, its createQueryEngine imported beside ours.
 */
export const BEFORE_SQLGLOT = '4e66672';

async function engineAt(commit: string): Promise<{ create: typeof createQueryEngine; remove: () => void }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kafkalake-bench-base-'));
  const git = (...args: string[]) => execFileSync('git', ['-C', PROJECT_ROOT, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  git('worktree', 'add', '--detach', '--force', dir, commit);
  const remove = () => {
    git('worktree', 'remove', '--force', dir);
  };
  try {
    symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(dir, 'tsconfig.json')], { stdio: 'ignore' });
    const mod = (await import(pathToFileURL(path.join(dir, 'dist/daemons/jobs/query.js')).href)) as { createQueryEngine: typeof createQueryEngine };
    return { create: mod.createQueryEngine, remove };
  } catch (err) {
    remove();
    throw new Error(`cannot build the engine of ${commit} for the comparison: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** Each saved report through this engine and the one before sqlglot, turn about: a warm-up each, then `runs` each. */
export async function beforeAfter(twin: Twin, say: (l: string) => void, runs = 5): Promise<string> {
  const bucket = await twin.bucket();
  const c = twin.config({ aws: { bucket }, crawl: { database: unique('bench').replace(/-/g, '_'), crawlerName: unique('crawler') }, reports: { memoryMb: 1536 } });
  const rows = (await buildLakeFromCsv(c)).rows;
  await putDlq(c);
  await runCrawl(c, log);
  const base = await engineAt(BEFORE_SQLGLOT);
  const engines = [createQueryEngine(c, log), base.create(c, log)];
  const out: string[] = [];
  const ratios: number[] = [];
  try {
    for (const q of loadSavedQueries(resolveFromRoot('sql/reports'))) {
      const times: number[][] = [[], []];
      for (let i = 0; i <= runs; i++) {
        for (const [k, e] of engines.entries()) {
          const t0 = performance.now();
          await e.query(q.sql, `report ${q.name}`);
          if (i > 0) times[k]!.push(performance.now() - t0);
        }
      }
      const [now, before] = times.map((ts) => median(ts)) as [number, number];
      ratios.push(now / before);
      say(`bench reports: ${q.name} now ${times[0]!.map(Math.round).join(', ')} ms, before sqlglot ${times[1]!.map(Math.round).join(', ')} ms`);
      out.push(`| ${q.name} | ${fmt(now)} (${fmt(Math.min(...times[0]!))}–${fmt(Math.max(...times[0]!))}) | ${fmt(before)} (${fmt(Math.min(...times[1]!))}–${fmt(Math.max(...times[1]!))}) | ${fmt(now / before, 2)} |`);
    }
  } finally {
    for (const e of engines) e.close();
    base.remove();
  }
  const worst = Math.max(...ratios);
  return [
    `Command: \`npm run bench\` or \`node dist/test/bench/main.js --only sqlglot\`. Local mode against the AWS twin (moto) on a free port; the CSV lake (${fmt(rows)} rows). Machine: ${machine()}.`,
    '',
    `Each saved report through \`createQueryEngine\` (what \`kafkalake query\` and \`run report\` use) now and at commit ${BEFORE_SQLGLOT} (the hand-written macro dialect, before sqlglot), built in a scratch worktree; one warm-up run each, then ${runs} runs each, the two engines taking turns. The translation now adds the worker's round trip (a few ms a query); issue 20 asks at most 1.2×. Worst ratio ${fmt(worst, 2)}: ${worst <= 1.2 ? 'within' : 'NOT within'} 1.2×.`,
    '',
    `| report | now: median of ${runs}, ms (min–max) | before sqlglot: median of ${runs}, ms (min–max) | ratio |`,
    '|---|---|---|---|',
    ...out,
  ].join('\n');
}

/** A simulated lake: `n` rows, 1,000 symbols × consecutive days, one Parquet file per year partition. */
export async function simulatedLake(c: Readonly<Config>, n: number): Promise<number> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'kafkalake-bench-sim-'));
  const db = await DuckDBInstance.create(':memory:', { threads: '2', memory_limit: '1536MB', temp_directory: work });
  const conn = await db.connect();
  const aws = createAwsClients(c);
  try {
    await conn.run(`SET TimeZone='UTC'`);
    await conn.run(`SET preserve_insertion_order = false`);
    await conn.run(`COPY (
      SELECT 'SIM' || lpad(CAST(i % 1000 AS VARCHAR), 4, '0') AS "index", DATE '1990-01-01' + CAST(i // 1000 AS INTEGER) AS trade_date,
        p * 0.99 AS open, p * 1.01 AS high, p * 0.98 AS low, p AS close, p AS adj_close, CAST(hash(i) % 10000000 AS BIGINT) AS volume, p AS close_usd,
        CAST(NULL AS TIMESTAMPTZ) AS event_time, 'stock_market_data' AS _topic, CAST(i % 6 AS INTEGER) AS _partition, CAST(i AS BIGINT) AS _offset,
        TIMESTAMPTZ '2026-11-21 00:00:00+00' AS _timestamp, 'SIM' || CAST(i % 1000 AS VARCHAR) AS _key,
        year(DATE '1990-01-01' + CAST(i // 1000 AS INTEGER)) AS year
      FROM (SELECT range AS i, 100 + (hash(range) % 100000) / 1000.0 AS p FROM range(${n}))
    ) TO ${lit(path.join(work, 'out'))} (FORMAT parquet, COMPRESSION snappy, PARTITION_BY (year), FILENAME_PATTERN 'part-{i}')`);
    const b = bucketOf(aws.s3, c.aws.bucket);
    const files: Array<[string, string]> = [];
    for (const y of await readdir(path.join(work, 'out'))) for (const f of await readdir(path.join(work, 'out', y))) files.push([path.join(work, 'out', y, f), `datalake/stock_market_data/${y}/${f}`]);
    await pool(files, 4, async ([f, key]) => b.put(key, await readFile(f)));
    return n;
  } finally {
    conn.closeSync();
    db.closeSync();
    aws.destroy();
    await rm(work, { recursive: true, force: true });
  }
}

async function incrementalCrawl(twin: Twin, total: number, say: (l: string) => void): Promise<string> {
  const bucket = await twin.bucket();
  const c = twin.config({ aws: { bucket } });
  const body = await putParquet(c, 'tmp/seed.parquet', `SELECT 1 AS id, 'x' AS name, 2.5::DOUBLE AS v`);
  const aws = createAwsClients(c);
  try {
    const b = bucketOf(aws.s3, bucket);
    const keys = Array.from({ length: total }, (_, i) => `datalake/inc/part=${String(i % 100).padStart(3, '0')}/f-${String(i).padStart(6, '0')}.parquet`);
    await pool(keys, 16, (k) => b.put(k, body));
    const targets = [{ path: 'datalake/', tablePrefix: '', exclude: [] }];
    // two crawlers over the same objects, each with its own state and database: Glue's default
    // (list every object each crawl) and the recrawl policy that lists only folders not crawled before
    const everything = { glue: aws.glue, bucket: b, name: 'bench-inc', database: unique('bench_inc').replace(/-/g, '_'), targets, schemaChangePolicy: 'UPDATE_IN_DATABASE', deleteBehavior: 'LOG', log } as const;
    const newFolders = { ...everything, name: 'bench-inc-newf', database: unique('bench_newf').replace(/-/g, '_'), schemaChangePolicy: 'LOG', recrawlPolicy: 'CRAWL_NEW_FOLDERS_ONLY' } as const;
    const full = await createCrawler(everything).run();
    say(`bench reports: full crawl of ${total} objects: ${full.durationMs} ms`);
    const fullByFolder = await createCrawler(newFolders).run();
    say(`bench reports: full crawl of ${total} objects, folder by folder: ${fullByFolder.durationMs} ms`);
    const inc: number[] = [];
    const incNew: number[] = [];
    const foldersListed: number[] = [];
    for (let r = 0; r < 3; r++) {
      await pool(Array.from({ length: 10 }, (_, i) => `datalake/inc/part=${String(100 + r).padStart(3, '0')}/new-${r}-${i}.parquet`), 10, (k) => b.put(k, body));
      for (const [deps, times] of [[everything, inc], [newFolders, incNew]] as const) {
        const rep = await createCrawler(deps).run();
        if (rep.objectsRead !== 10 || rep.partitionsAdded !== 1) throw new Error(`incremental crawl (${rep.recrawlPolicy}) read ${rep.objectsRead} objects and added ${rep.partitionsAdded} partitions, not 10 and 1`);
        times.push(rep.durationMs);
        if (rep.foldersListed !== undefined) foldersListed.push(rep.foldersListed);
      }
    }
    const m = median(inc);
    const mNew = median(incNew);
    return [
      `### Incremental crawl: 10 new objects among ${fmt(total)}`,
      '',
      `| crawl | objects read | time, ms | ratio to full crawl |`,
      `|---|---|---|---|`,
      `| full (anchor): every object's footer read, table and ${fmt(full.partitionsAdded)} partitions created | ${fmt(full.objectsRead)} | ${fmt(full.durationMs)} | 1 |`,
      `| incremental: list ${fmt(total + 10)}, read the 10 new, add 1 partition (median of 3: ${inc.map((x) => fmt(x)).join(', ')}) | 10 | ${fmt(m)} | ${fmt(m / full.durationMs, 3)} |`,
      `| full, folder by folder (crawl.recrawlPolicy CRAWL_NEW_FOLDERS_ONLY, first crawl) | ${fmt(fullByFolder.objectsRead)} | ${fmt(fullByFolder.durationMs)} | ${fmt(fullByFolder.durationMs / full.durationMs, 3)} |`,
      `| incremental, new folders only: list ${fmt(median(foldersListed))} folders, read the 10 new, add 1 partition (median of 3: ${incNew.map((x) => fmt(x)).join(', ')}) | 10 | ${fmt(mNew)} | ${fmt(mNew / full.durationMs, 3)} |`,
    ].join('\n');
  } finally {
    aws.destroy();
  }
}

export const reportsBench: Benchmark = {
  name: 'reports',
  section: 'Catalog and reports',
  async run(ctx) {
    const simRows = ctx.quick ? 1_000_000 : 10_000_000;
    const objects = 10_000;
    const head = [
      `Command: \`npm run bench\` or \`node dist/test/bench/main.js --only reports${ctx.quick ? ' --quick' : ''}\`. Local mode against the AWS twin (moto) on a free port.`,
      '',
      `- Report latency: each saved query (\`sql/reports/*.sql\`) run 5 times through \`createQueryEngine\` (what \`kafkalake query\`/\`run report\` use: Glue lookup, object cache, snapshot DuckDB file, read-only session, result CSV written to athena-results/). The first run loads the snapshot; later runs reuse it. Anchor: the same SQL in an in-memory DuckDB over the same Parquet files on local disk (views, no catalog, no S3, no result written).`,
      `- Machine: ${machine()}. The machine is shared with other jobs; figures are noisy.`,
      ...(ctx.quick ? [`- --quick: the simulated lake has 1,000,000 rows (the full run: 10,000,000); the incremental crawl is the full size.`] : []),
      '',
    ];
    const twin = await startTwin();
    try {
      const csv = await reportTable(twin, 'The CSV lake', async (c) => (await buildLakeFromCsv(c)).rows, (l) => ctx.say(l));
      const sim = await reportTable(twin, `Simulated lake`, (c) => simulatedLake(c, simRows), (l) => ctx.say(l));
      const inc = await incrementalCrawl(twin, objects, (l) => ctx.say(l));
      return [...head, csv, '', sim, '', inc].join('\n');
    } finally {
      await twin.stop();
    }
  },
};

export const sqlglotBench: Benchmark = {
  name: 'sqlglot',
  section: 'Local SQL before and after sqlglot',
  async run(ctx) {
    const twin = await startTwin();
    try {
      return await beforeAfter(twin, (l) => ctx.say(l));
    } finally {
      await twin.stop();
    }
  },
};
