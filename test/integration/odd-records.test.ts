// Odd and bad records sent raw (kcat, not our producer) through the whole local pipeline: the consumer,
// the ETL, `kafkalake dlq`. Nothing is lost: every record in the topic is a lake row or a dead letter of
// one stage, listed with its stage and reason; after a spec change, a replay of the ETL's dead letters
// lands the fixed rows once. The records and what each stage must do: test/helpers/odd-records.ts.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { lakeManifestRows } from '../helpers/ledger.js';
import { oddRecords } from '../helpers/odd-records.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';
import { createTopic, endOffsets, runCli } from './consumer-helpers.js';

const run = promisify(execFile);
let stack: TestStack;
let dir: string;

test.before(async () => {
  stack = await startTestStack();
  dir = mkdtempSync(path.join(os.tmpdir(), 'kafkalake-odd-'));
});
test.after.always(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Listed {
  stage: 'consumer' | 'etl';
  records: number;
  reasons: Record<string, number>;
}

const tally = (reasons: string[]) => reasons.reduce<Record<string, number>>((m, r) => ({ ...m, [r]: (m[r] ?? 0) + 1 }), {});

test('odd records sent raw: each is a lake row or a dead letter of one stage with its reason; a replay after a spec change lands the fixed ones once', async (t) => {
  t.timeout(5 * 60_000);
  const topic = 'stock_market_data'; // the table spec's source topic; the stack is this file's own
  const bucket = await stack.bucket();
  await createTopic(stack.brokers, topic, 1);
  const odd = oddRecords();
  // one file per record: kcat sends each file as one message, as it is (newlines, BOM, bad bytes); a
  // tombstone is a key with an empty value on its standard input, with -Z (it skips an empty file or line)
  const files = odd.flatMap((r, i) => {
    if (r.value === null) return [];
    const f = path.join(dir, `${String(i).padStart(3, '0')}.json`);
    writeFileSync(f, r.value);
    return [f];
  });
  const kcat = ['-P', '-b', stack.brokers.join(','), '-t', topic, '-p', '0', '-k', 'ODD'];
  await run('kcat', [...kcat, ...files]);
  const tombstones = odd.filter((r) => r.value === null).length;
  await new Promise<void>((resolve, reject) => {
    const c = execFile('kcat', [...kcat.slice(0, -2), '-K', ':', '-Z'], (err) => (err ? reject(new Error(`kcat: ${err.message}`)) : resolve()));
    c.stdin?.end('ODD:\n'.repeat(tombstones));
  });
  const sent = (await endOffsets(stack.brokers, topic)).get(0);
  t.is(sent, odd.length, 'every record is in the topic');

  const base = { kafka: { topic }, aws: { bucket }, metrics: { enabled: false }, consumer: { groupId: unique('g') } };
  const cfg = stack.configFile(base);
  const step = async (args: string[]) => {
    const c = runCli([...args, '--config', cfg]);
    t.is((await c.exited).code, 0, c.stderr());
    return c.stdout();
  };
  await step(['consume', '--once']);
  await step(['run', 'etl']);

  const listed = JSON.parse(await step(['dlq', 'list', '--json'])) as Listed[];
  const letters = (stage: Listed['stage']) =>
    listed.filter((o) => o.stage === stage).reduce<Record<string, number>>((m, o) => {
      for (const [k, v] of Object.entries(o.reasons)) m[k] = (m[k] ?? 0) + v;
      return m;
    }, {});
  t.deepEqual(letters('consumer'), tally(odd.filter((r) => r.consumer !== null).map((r) => r.consumer!)), 'the consumer refused each with its reason');
  const etlRejects = odd.filter((r) => r.consumer === null && r.etl !== null).map((r) => r.etl!);
  t.deepEqual(letters('etl'), tally(etlRejects), 'the ETL refused each with its reason');
  const aws = createAwsClients(stack.config({ aws: { bucket } }));
  const rows = await lakeManifestRows(aws.s3, bucket);
  const dead = (s: Listed['stage']) => Object.values(letters(s)).reduce((n, v) => n + v, 0);
  t.is(rows, odd.filter((r) => r.consumer === null && r.etl === null).length);
  t.is(rows + dead('consumer') + dead('etl'), odd.length, 'records in the topic = lake rows + dead letters of both stages');
  const text = await step(['dlq', 'list']);
  t.regex(text, /^consumer +\S+ {2}\d+ record\(s\) {2}.*duplicate-key=2/m);
  t.regex(text, /^etl +\S+\.etl\.jsonl\.gz {2}\d+ record\(s\) {2}.*field "adj_close" is missing or null=2/m);

  // the operator decides adj_close may be missing (nullable), then replays the ETL's dead letters
  const specDir = path.join(dir, 'spec');
  const spec = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'glue/tables/stock_market_data.json'), 'utf8')) as { columns: Array<{ name: string; nullable?: boolean }> };
  for (const c of spec.columns) if (c.name === 'adj_close') c.nullable = true;
  mkdirSync(specDir, { recursive: true });
  writeFileSync(path.join(specDir, 'stock_market_data.json'), JSON.stringify(spec));
  const fixed = stack.configFile({ ...base, etl: { specDir } });
  const replay = runCli(['dlq', 'replay', '--all', '--stage', 'etl', '--config', fixed]);
  t.is((await replay.exited).code, 0, replay.stderr());
  t.regex(replay.stdout(), new RegExp(`replayed ${etlRejects.length} dead letter\\(s\\)`));
  for (const args of [['consume', '--once'], ['run', 'etl']]) {
    const c = runCli([...args, '--config', fixed]);
    t.is((await c.exited).code, 0, c.stderr());
  }
  t.is(await lakeManifestRows(aws.s3, bucket), rows + 2, 'the two rows without adj_close, once each');
  const again = runCli(['dlq', 'replay', '--all', '--stage', 'etl', '--config', fixed]);
  t.is((await again.exited).code, 0, again.stderr());
  t.regex(again.stdout(), /already replayed/);
  aws.destroy();
});
