// The local ETL's lock is released however a run fails: a work dir that cannot be made fails the run in
// one line naming etl.workDir, and the next run (with a usable dir) is not blocked by a lock its own
// process left behind.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { KafkalakeError, oneLine } from '../../lib/errors.js';
import { loadSpecs } from '../../lib/etl/spec.js';
import { dirStore } from '../../lib/etl/store.js';
import { createLogger } from '../../lib/log.js';
import { PROJECT_ROOT } from '../../lib/paths.js';
import { createLocalEtl } from './executor.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-etl-lock-'));
test.after.always(() => rmSync(root, { recursive: true, force: true }));

test('a work dir that cannot be made fails in one line and leaves no lock behind', async (t) => {
  const blocker = path.join(root, 'a-file');
  writeFileSync(blocker, 'not a directory');
  const etl = (workDir: string) =>
    createLocalEtl({
      store: dirStore(path.join(root, 'bucket')),
      specs: loadSpecs(path.join(PROJECT_ROOT, 'glue/tables')),
      job: 'lock-test',
      log: createLogger({ daemon: 'etl-test', silent: true }),
      memoryMb: 256,
      threads: 1,
      lockTtlMs: 3_600_000,
      workDir,
    });
  const err = await t.throwsAsync(etl(path.join(blocker, 'work')).run(), { instanceOf: KafkalakeError });
  t.regex(oneLine(err), /cannot make the ETL work dir/);
  t.is(err?.where, `etl.workDir ${path.join(blocker, 'work')}`);
  // a fresh dir that does not exist yet is made; the lock of the failed run is gone
  const report = await etl(path.join(root, 'new', 'work')).run();
  t.is(report.job, 'lock-test');
  t.true(report.tables.every((x) => x.rowsRead === 0));
});
