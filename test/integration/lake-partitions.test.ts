// Finer partitions for event data (issue 18): an event-shaped table (no business key: one row per Kafka
// message) partitioned by the UTC day and hour of its event time, written by the DuckDB executor and by
// glue/etl_job.py under pyspark on the same staging; both must give the same lake.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { readManifest } from '../../daemons/lib/etl/lake.js';
import { loadSpecFile, type TableSpec } from '../../daemons/lib/etl/spec.js';
import { dirStore } from '../../daemons/lib/etl/store.js';
import { createLogger } from '../../daemons/lib/log.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { createLocalEtl } from '../../daemons/local/etl/executor.js';
import { currentFiles, duck, lakeScan, runSparkJob } from './etl-helpers.js';
import { type Rec, stager } from './etl-staging.js';

const quiet = createLogger({ daemon: 'test', level: 'error', stream: process.stderr });
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-events-'));
  dirs.push(d);
  return d;
};
test.after.always(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The stock spec made an event table: no business key, partitioned by day and hour of event_time. */
function eventSpecFile(dir: string): string {
  const s = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'glue/tables/stock_market_data.json'), 'utf8')) as Record<string, unknown>;
  Object.assign(s, {
    table: 'ticks',
    source: { topic: 'ticks', prefix: 'staging/ticks/' },
    target: { prefix: 'datalake/ticks/', maxRowsPerFile: 1_000_000 },
    dlq: { prefix: 'staging/_dlq/ticks/' },
    businessKey: [],
    derived: [
      { name: 'day', fn: 'day', of: 'event_time' },
      { name: 'hour', fn: 'hour', of: 'event_time' },
    ],
    partitionBy: ['day', 'hour'],
  });
  (s.columns as { name: string; nullable?: boolean }[]).find((c) => c.name === 'event_time')!.nullable = false;
  const file = path.join(dir, 'ticks.json');
  writeFileSync(file, JSON.stringify(s));
  return file;
}

/** 600 ticks of 3 symbols, one a minute from 2026-12-04 22:00 UTC (three hours over a day boundary, +01:00 written). */
function ticks(): Rec[] {
  const start = Date.UTC(2026, 11, 4, 22);
  return Array.from({ length: 600 }, (_, i) => {
    const t = new Date(start + Math.floor(i / 3) * 60_000);
    // every third tick written with an offset: the same instant, so the same UTC day and hour
    const text = i % 3 === 2 ? new Date(t.getTime() + 3_600_000).toISOString().replace('Z', '+01:00') : t.toISOString();
    return { index: `S${i % 3}`, date: t.toISOString().slice(0, 10), open: 1, high: 2, low: 0.5, close: 1 + i / 1000, adj_close: 1, volume: i, close_usd: 1, event_time: text };
  });
}

test('an event table partitions by UTC day and hour: one partition per hour, rows in their hour; pyspark agrees', async (t) => {
  const specDir = tmp();
  const specFile = eventSpecFile(specDir);
  const spec: TableSpec = loadSpecFile(specFile);
  const duckDir = tmp();
  const sparkDir = tmp();
  for (const d of [duckDir, sparkDir]) await stager(dirStore(d), 'ticks', { partitions: 2, perObject: 1_000, track: false }).stage(ticks(), { dt: '2026-12-05' });

  const r = await createLocalEtl({ store: dirStore(duckDir), specs: [spec], job: 'kafkalake-etl', log: quiet, memoryMb: 512, threads: 2, lockTtlMs: 60_000 }).run();
  t.deepEqual(r.tables[0]?.appended, ['day=2026-12-04/hour=22', 'day=2026-12-04/hour=23', 'day=2026-12-05/hour=0', 'day=2026-12-05/hour=1']);
  const m = await readManifest(dirStore(duckDir), spec, { day: '2026-12-05', hour: '0' });
  t.is(m?.location, 'datalake/ticks/day=2026-12-05/hour=0/');
  t.deepEqual(m?.keyColumns, ['_topic', '_partition', '_offset'], 'no business key: the envelope is the key');
  t.is(m?.files[0]?.rows, 180);

  const db = await duck();
  try {
    const [bad] = await db.rows(`SELECT count(*)::INT AS n FROM ${lakeScan(duckDir, 'ticks')} WHERE strftime(event_time, '%Y-%m-%d') <> CAST(day AS VARCHAR) OR hour(event_time) <> hour`);
    t.is(bad?.n, 0, 'every row in the partition of its UTC day and hour');
    const [all] = await db.rows(`SELECT count(*)::INT AS n FROM ${lakeScan(duckDir, 'ticks')}`);
    t.is(all?.n, 600);
  } finally {
    db.close();
  }

  const s = await runSparkJob(sparkDir, 'kafkalake-etl', { specFile });
  t.is(s.code, 0, s.stderr);
  const rel = (d: string) => currentFiles(d, 'ticks').map((f) => path.relative(d, f));
  t.deepEqual(rel(sparkDir), rel(duckDir), 'the same partitions and file names');
  const db2 = await duck();
  try {
    const [d1] = await db2.rows(`SELECT count(*)::INT AS n FROM (SELECT * FROM ${lakeScan(duckDir, 'ticks')} EXCEPT ALL SELECT * FROM ${lakeScan(sparkDir, 'ticks')})`);
    const [d2] = await db2.rows(`SELECT count(*)::INT AS n FROM (SELECT * FROM ${lakeScan(sparkDir, 'ticks')} EXCEPT ALL SELECT * FROM ${lakeScan(duckDir, 'ticks')})`);
    t.deepEqual([d1?.n, d2?.n], [0, 0], 'the same rows');
  } finally {
    db2.close();
  }
});
