// The aws-mode ETL against the twin's Glue API: the job created as Ansible creates it (CreateJob, the
// script in S3), then `kafkalake run etl` in aws mode calls StartJobRun with the specs as arguments
// and polls GetJobRun to a terminal state, within a timeout, reporting failures in one line.
// The twin (moto) does not run Spark: its job runs only step STARTING → RUNNING → SUCCEEDED (paced
// here with its state manager). That the script itself works is etl.test.ts's job (real pyspark).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateJobCommand, GetJobRunsCommand, StartJobRunCommand } from '@aws-sdk/client-glue';
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { KafkalakeError } from '../../daemons/lib/errors.js';
import { createGlueRunner, glueArguments } from '../../daemons/lib/etl/glue-runner.js';
import { loadSpecs } from '../../daemons/lib/etl/spec.js';
import { s3Store } from '../../daemons/lib/etl/store.js';
import { createLogger } from '../../daemons/lib/log.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';

const run = promisify(execFile);
const CLI = path.join(PROJECT_ROOT, 'dist/daemons/cli/main.js');
const SPECS = loadSpecs(path.join(PROJECT_ROOT, 'glue/tables'));
const log = createLogger({ daemon: 'test', level: 'error', stream: process.stderr });

let stack: TestStack;
let bucket: string;
let aws: ReturnType<typeof createAwsClients>;
const awsConfig = () => ({ mode: 'aws', aws: { bucket, accessKeyId: 'test', secretAccessKey: 'test' } });

/** Pace the twin's job runs: each state holds for `times` GetJobRun calls (manual progression). */
async function pace(times: number | undefined): Promise<void> {
  const action = times === undefined ? 'unset-transition' : 'set-transition';
  const body = times === undefined ? { model_name: 'glue::job_run' } : { model_name: 'glue::job_run', transition: { progression: 'manual', times } };
  const r = await fetch(`${stack.awsEndpoint}/moto-api/state-manager/${action}`, { method: 'POST', body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`moto state manager: ${r.status}`);
}

/** The Glue job as the Ansible role creates it: the script uploaded to S3, Glue 5.0, one run at a time. */
async function createJob(name: string): Promise<void> {
  const store = s3Store(aws.s3, bucket);
  await store.put('glue/etl_job.py', readFileSync(path.join(PROJECT_ROOT, 'glue/etl_job.py')));
  await aws.glue.send(
    new CreateJobCommand({
      Name: name,
      Role: 'arn:aws:iam::123456789012:role/kafkalake-glue',
      Command: { Name: 'glueetl', ScriptLocation: `s3://${bucket}/glue/etl_job.py`, PythonVersion: '3' },
      GlueVersion: '5.0',
      WorkerType: 'G.1X',
      NumberOfWorkers: 2,
      Timeout: 60,
      ExecutionProperty: { MaxConcurrentRuns: 1 },
      DefaultArguments: { '--job-language': 'python', '--enable-metrics': 'true' },
    }),
  );
}

async function cli(configFile: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, 'run', 'etl', '--config', configFile], { timeout: 60_000 });
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
const lastLine = (s: string) => s.trim().split('\n').pop() ?? '';

test.before(async () => {
  stack = await startTestStack();
  bucket = await stack.bucket();
  aws = createAwsClients(stack.config(awsConfig()));
});
test.after.always(async () => {
  aws?.destroy();
  await stack?.stop();
});
test.afterEach.always(async () => {
  await pace(undefined);
});

test.serial('kafkalake run etl in aws mode starts the Glue job with the specs as arguments and polls it to SUCCEEDED', async (t) => {
  const job = unique('kafkalake-etl');
  await createJob(job);
  await pace(2);
  const r = await cli(stack.configFile({ ...awsConfig(), etl: { jobName: job, pollIntervalMs: 100 } }));
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, new RegExp(`^etl: Glue job ${job} run jr_[0-9a-f]+ SUCCEEDED in [0-9.]+ s \\(execution \\d+ s, [0-9.]+ DPU-seconds\\)\\n$`));
  const runs = (await aws.glue.send(new GetJobRunsCommand({ JobName: job }))).JobRuns ?? [];
  t.is(runs.length, 1);
  const args = runs[0]!.Arguments ?? {};
  t.is(args['--kafkalake_root'], `s3://${bucket}/`);
  t.is(args['--kafkalake_job'], job);
  t.deepEqual(JSON.parse(args['--kafkalake_specs']!), JSON.parse(JSON.stringify(SPECS)), 'the specs of glue/tables travel as the job argument');
  t.is(args['--job-language'], 'python', 'the job’s default arguments are kept');
  t.is(runs[0]!.Timeout, 30, 'the run carries etl.glueTimeoutMinutes as its Timeout (the job’s is 60)');
  t.is(await s3Store(aws.s3, bucket).get(`_state/${job}.lock`), undefined, 'the lock is released');
});

test.serial('polling waits through STARTING and RUNNING and reports DPU-seconds', async (t) => {
  const job = unique('kafkalake-etl');
  await createJob(job);
  await pace(3);
  const slept: number[] = [];
  const store = s3Store(aws.s3, bucket);
  // the job's report of its run (glue/etl_job.py writes it as it ends): another run's is not taken
  const table = { table: 'stock_market_data', objects: 2, rowsRead: 10, rowsRejected: 0, rowsWritten: 10, partitions: ['year=2020'], created: [], oldestSentAtMs: 1_000, committedAtMs: 4_000 };
  const lastRun = (runId: string, tables: unknown[]) => store.put(`_state/${job}.last-etl.json`, Buffer.from(JSON.stringify({ job, action: 'etl', runId, tables })));
  await lastRun('jr_another', [{ ...table, oldestSentAtMs: 0 }]);
  const runner = createGlueRunner({
    glue: aws.glue,
    store,
    specs: SPECS,
    job,
    log,
    timeoutMs: 30_000,
    pollIntervalMs: 50,
    lockTtlMs: 60_000,
    sleep: async (ms) => {
      slept.push(ms);
      if (slept.length === 2) {
        const runs = await aws.glue.send(new GetJobRunsCommand({ JobName: job }));
        await lastRun(runs.JobRuns?.[0]?.Id ?? '', [table]);
      }
      await new Promise((res) => setTimeout(res, ms));
    },
  });
  const report = await runner.run();
  t.is(report.state, 'SUCCEEDED');
  t.deepEqual(report.tables, [table], 'the run\'s own report, not another run\'s');
  t.true(report.polls >= 5, `polled ${report.polls} times`);
  t.is(slept.length, report.polls - 1);
  t.true(slept.every((ms) => ms === 50));
  t.is(typeof report.dpuSeconds, 'number');
  t.deepEqual(glueArguments(SPECS, `s3://${bucket}/`, job)['--kafkalake_job'], job);
});

test.serial('a run still going at etl.timeoutMs fails in one line within the timeout', async (t) => {
  const job = unique('kafkalake-etl');
  await createJob(job);
  await pace(1_000_000); // stays STARTING
  const started = Date.now();
  // in-process: the config rejects an aws-mode etl.timeoutMs below the Glue run's Timeout + start-up (next test)
  const runner = createGlueRunner({ glue: aws.glue, store: s3Store(aws.s3, bucket), specs: SPECS, job, log, timeoutMs: 2000, glueTimeoutMinutes: 1, pollIntervalMs: 200, lockTtlMs: 60_000 });
  const err = await t.throwsAsync(runner.run(), { instanceOf: KafkalakeError });
  const took = Date.now() - started;
  t.regex(err?.message ?? '', new RegExp(`^Glue job ${job} run jr_[0-9a-f]+ still STARTING after \\d+ s \\(etl.timeoutMs\\); (asked Glue to stop it|could not stop it: .+)$`));
  t.true(err?.retriable);
  t.true(took < 15_000, `took ${took} ms`);
  t.is(await s3Store(aws.s3, bucket).get(`_state/${job}.lock`), undefined, 'the lock is released after a timeout too');
});

test.serial('an aws-mode etl.timeoutMs that would give up before the Glue run’s own Timeout stops run etl at start, in one line', async (t) => {
  const r = await cli(stack.configFile({ ...awsConfig(), etl: { jobName: 'never-started', timeoutMs: 1_800_000 } }));
  t.is(r.code, 1);
  t.regex(lastLine(r.stderr), /^kafkalake: config: etl\.timeoutMs = 1800000 \(from .+\.json\): must be at least 3000000 in aws mode, the Glue run's Timeout \(etl\.glueTimeoutMinutes 30 min\) plus 20 min .+$/);
  t.is(((await aws.glue.send(new GetJobRunsCommand({ JobName: 'never-started' })).catch(() => ({ JobRuns: [] }))).JobRuns ?? []).length, 0, 'nothing was started');
});

test.serial('Glue refusing the run (a run already going, a missing job) is one line naming the job', async (t) => {
  const job = unique('kafkalake-etl');
  await createJob(job);
  await pace(1_000_000);
  await aws.glue.send(new StartJobRunCommand({ JobName: job })); // someone else's run, still STARTING
  const r = await cli(stack.configFile({ ...awsConfig(), etl: { jobName: job } }));
  t.is(r.code, 1);
  t.regex(lastLine(r.stderr), new RegExp(`^kafkalake: StartJobRun of Glue job ${job} failed: .*already running`));

  const missing = await cli(stack.configFile({ ...awsConfig(), etl: { jobName: 'no-such-job' } }));
  t.is(missing.code, 1);
  t.regex(lastLine(missing.stderr), /^kafkalake: StartJobRun of Glue job no-such-job failed: .+/);
});

test.serial('in-process, a refused start is a KafkalakeError that is not retriable', async (t) => {
  const runner = createGlueRunner({ glue: aws.glue, store: s3Store(aws.s3, bucket), specs: SPECS, job: 'absent', log, timeoutMs: 1000, pollIntervalMs: 10, lockTtlMs: 10_000 });
  const err = await t.throwsAsync(runner.run(), { instanceOf: KafkalakeError });
  t.false(err.retriable);
});
