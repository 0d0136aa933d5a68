// The local engine against Trino's documented answers (test/helpers/sql-conformance.ts), through the
// engine `kafkalake query` uses (the twin's catalog, sqlglot, DuckDB): every case without a known
// difference answers as Athena would, every known difference still differs (so the docs' list stays
// true), and every DuckDB-only construct is refused in one line of Athena's kind. The pass rate and the
// known differences are those sql/README.md states.
import { readFileSync } from 'node:fs';
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { glueCatalog } from '../../daemons/lib/catalog/glue-catalog.js';
import type { Config } from '../../daemons/lib/config/index.js';
import { createLogger } from '../../daemons/lib/log.js';
import { createQueryEngine } from '../../daemons/jobs/query.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { CASES, REFUSALS } from '../helpers/sql-conformance.js';
import { startTwin, type Twin, unique } from './crawl-helpers.js';

let twin: Twin;
let config: Readonly<Config>;
const log = createLogger({ daemon: 'sql-conformance-test', level: 'warn', stream: process.stderr });

test.before(async () => {
  twin = await startTwin();
  config = twin.config({ aws: { bucket: await twin.bucket() }, crawl: { database: unique('kl_conf').replace(/-/g, '_') } });
  const aws = createAwsClients(config);
  await glueCatalog(aws.glue, config.crawl.database).ensureDatabase('sql conformance');
  aws.destroy();
});
test.after.always(async () => {
  await twin?.stop();
});

const answer = (e: ReturnType<typeof createQueryEngine>, sql: string) =>
  e.query(sql, 'conformance').then(
    (r) => ({ rows: r.rows, error: undefined }),
    (err: Error) => ({ rows: undefined, error: err.message }),
  );

test.serial(`${CASES.length} queries from Trino's documentation answer as Trino documents; the known differences still differ`, async (t) => {
  t.timeout(10 * 60_000);
  const engine = createQueryEngine(config, log);
  const failed: string[] = [];
  const stale: string[] = [];
  try {
    for (const c of CASES) {
      const got = await answer(engine, c.sql);
      const same = got.rows !== undefined && JSON.stringify(got.rows) === JSON.stringify(c.rows);
      if (!same && !c.differs) failed.push(`${c.sql}\n    expected ${JSON.stringify(c.rows)}\n    got      ${got.error ?? JSON.stringify(got.rows)}`);
      if (same && c.differs) stale.push(`${c.sql} now answers as Trino: drop its "differs" (${c.differs})`);
    }
  } finally {
    engine.close();
  }
  const passing = CASES.filter((c) => !c.differs).length;
  t.log(`conformance: ${passing} of ${CASES.length} pass (${((100 * passing) / CASES.length).toFixed(1)} %)`);
  t.deepEqual(failed, [], failed.join('\n'));
  t.deepEqual(stale, [], stale.join('\n'));
  // the SQL docs quote the figures and every known difference
  const docs = readFileSync(`${PROJECT_ROOT}/sql/README.md`, 'utf8');
  t.true(docs.includes(`**${passing} of ${CASES.length} pass (${((100 * passing) / CASES.length).toFixed(1)} %); ${REFUSALS.length} of ${REFUSALS.length} refusals.**`), 'sql/README.md states the pass rate');
  for (const c of CASES.filter((x) => x.differs)) t.true(docs.includes(`| \`${c.sql}\` | ${c.differs} |`), `sql/README.md lists ${c.sql}`);
});

test.serial(`${REFUSALS.length} DuckDB-only constructs are refused in one line of Athena's kind`, async (t) => {
  const engine = createQueryEngine(config, log);
  const wrong: string[] = [];
  try {
    for (const r of REFUSALS) {
      const got = await answer(engine, r.sql);
      if (got.error === undefined || !r.error.test(got.error) || got.error.includes('\n')) wrong.push(`${r.sql}\n    expected ${r.error}\n    got      ${got.error ?? `rows ${JSON.stringify(got.rows)}`}`);
    }
  } finally {
    engine.close();
  }
  t.deepEqual(wrong, [], wrong.join('\n'));
});
