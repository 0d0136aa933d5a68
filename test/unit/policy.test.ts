// Every AWS SDK command the daemons can send, mapped to the IAM action it needs and the resource the
// code uses it on, checked against the policies the aws_resources role renders. The twin judges actions
// (test/integration/iam.test.ts) but not the resources of Glue, Athena and CloudWatch calls, nor
// CloudWatch's condition keys: this test does. A new `new XCommand(` or `paginateX(` in daemons/
// fails here until it is mapped, and a policy that does not grant a mapped use fails too.
//
// Who sends it: host (the daemons and `kafkalake` on the EC2 hosts, role kafkalake-host), glue (the Glue
// job and crawler, role kafkalake-glue: in local mode the local engines stand in for them and send
// these), operator (only `kafkalake bootstrap`, run with the operator's credentials, never on a host),
// local (only in local mode, against the twin).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import { actionsOf, allowedBy, allows, type Policy, renderPolicy } from '../helpers/policy.js';

const B = 'my-kafkalake';
const R = 'eu-west-1';
const A = '123456789012';
const vars = { aws_resources_bucket: B, aws_region: R };
const host = renderPolicy('host-policy.json.j2', vars);
const glue = renderPolicy('glue-policy.json.j2', vars);

// the names as the config's defaults and the role's defaults give them (the same: checked below)
const obj = (key: string) => `arn:aws:s3:::${B}/${key}`;
const bucket = `arn:aws:s3:::${B}`;
const job = `arn:aws:glue:${R}:${A}:job/kafkalake-etl`;
const crawler = `arn:aws:glue:${R}:${A}:crawler/kafkalake-lake`;
const catalog = `arn:aws:glue:${R}:${A}:catalog`;
const db = (name = 'kafkalake') => `arn:aws:glue:${R}:${A}:database/${name}`;
const table = (name: string) => `arn:aws:glue:${R}:${A}:table/kafkalake/${name}`;
const workgroup = `arn:aws:athena:${R}:${A}:workgroup/kafkalake`;
const alarm = (name: string) => `arn:aws:cloudwatch:${R}:${A}:alarm:${name}`;
const staged = 'staging/stock_market_data/dt=2026-12-04/stock_market_data+0+00000000000000000000+00000000000000000099.jsonl.gz';
const dlq = 'staging/_dlq/stock_market_data/dt=2026-12-04/stock_market_data+0+00000000000000000005+00000000000000000005.jsonl.gz';
const part = 'datalake/stock_market_data/year=2026/part-00000.parquet';

type Who = 'host' | 'glue' | 'operator' | 'local';
interface Use {
  who: Who;
  action: string;
  resource: string;
  context?: Record<string, string>;
  /** the code path */
  why: string;
}
const use = (who: Who, action: string, resource: string, why: string, context?: Record<string, string>): Use => ({ who, action, resource, why, ...(context ? { context } : {}) });

// Athena runs a query with the caller's permissions: the catalog (the default database is mandatory:
// "You must have a policy that allows access to the default database ... for GetDatabase and
// CreateDatabase", Athena User Guide, fine-grained access to Glue resources), the data, the results.
const ATHENA_READ: Use[] = [
  use('host', 'glue:GetDatabase', db('default'), 'Athena: the default database'),
  use('host', 'glue:CreateDatabase', db('default'), 'Athena: creates default when missing'),
  use('host', 'glue:GetDatabase', db(), 'Athena: the query’s database'),
  use('host', 'glue:GetDatabases', catalog, 'Athena: SHOW DATABASES / metadata'),
  use('host', 'glue:GetTable', table('stock_market_data'), 'Athena: the table read'),
  use('host', 'glue:GetTables', db(), 'Athena: metadata'),
  use('host', 'glue:GetPartitions', table('stock_market_data'), 'Athena: partition pruning'),
  use('host', 'glue:BatchGetPartition', table('stock_market_data'), 'Athena: partition pruning'),
  use('host', 's3:ListBucket', bucket, 'Athena: lists the table location'),
  use('host', 's3:GetBucketLocation', bucket, 'Athena: the results bucket'),
  use('host', 's3:GetObject', obj(part), 'Athena: reads the lake'),
  use('host', 's3:GetObject', obj(staged), 'Athena: reads staging (data_quality)'),
  use('host', 's3:GetObject', obj(dlq), 'Athena: reads the DLQ table (data_quality)'),
  use('host', 's3:PutObject', obj('athena-results/q-1.csv'), 'Athena: writes the results'),
  use('host', 's3:ListBucketMultipartUploads', bucket, 'Athena: results in parts'),
  use('host', 's3:ListMultipartUploadParts', obj('athena-results/q-1.csv'), 'Athena: results in parts'),
  use('host', 's3:AbortMultipartUpload', obj('athena-results/q-1.csv'), 'Athena: results in parts'),
];

/** file → command → its uses */
const SENT: Record<string, Record<string, Use[]>> = {
  'daemons/consumer/dlq.ts': {
    ListObjectsV2: [use('host', 's3:ListBucket', bucket, 'dlq list')],
    GetObject: [use('host', 's3:GetObject', obj(dlq), 'dlq show/replay')],
    PutObject: [use('host', 's3:PutObject', obj('staging/_dlq/_replayed/stock_market_data/x.jsonl.gz.json'), 'dlq replay marker')],
  },
  'daemons/consumer/recovery.ts': { ListObjectsV2: [use('host', 's3:ListBucket', bucket, 'consumer resumes after the last staged offset')] },
  'daemons/consumer/stager.ts': {
    PutObject: [use('host', 's3:PutObject', obj(staged), 'consumer stages'), use('host', 's3:PutObject', obj(dlq), 'consumer dead-letters')],
  },
  'daemons/scheduler/history.ts': {
    GetObject: [use('host', 's3:GetObject', obj('_state/scheduler/history.json'), 'scheduler history')],
    PutObject: [use('host', 's3:PutObject', obj('_state/scheduler/history.json'), 'scheduler history')],
  },
  'daemons/cli/bootstrap.ts': {
    HeadBucket: [use('operator', 's3:ListBucket', bucket, 'bootstrap')],
    CreateBucket: [use('operator', 's3:CreateBucket', bucket, 'bootstrap')],
    GetDatabase: [use('operator', 'glue:GetDatabase', db(), 'bootstrap')],
    CreateDatabase: [use('operator', 'glue:CreateDatabase', db(), 'bootstrap')],
  },
  'daemons/lib/catalog/glue-crawler.ts': {
    StartCrawler: [use('host', 'glue:StartCrawler', crawler, 'run crawl (aws)')],
    GetCrawler: [use('host', 'glue:GetCrawler', crawler, 'run crawl (aws) polls')],
    // the Service Authorization Reference lists no resource type for GetCrawlerMetrics: "*" only
    GetCrawlerMetrics: [use('host', 'glue:GetCrawlerMetrics', '*', 'run crawl (aws) progress')],
    StopCrawler: [use('host', 'glue:StopCrawler', crawler, 'run crawl (aws) timed out')],
  },
  'daemons/lib/catalog/objects.ts': {
    ListObjectsV2: [use('host', 's3:ListBucket', bucket, 'reports list/prune'), use('glue', 's3:ListBucket', bucket, 'local crawler lists the lake')],
    GetObject: [
      use('host', 's3:GetObject', obj('athena-results/q-1.csv'), 'run report reads the result'),
      use('host', 's3:GetObject', obj('reports/daily_ohlc/2026-12-04.csv'), 'reports show'),
      use('glue', 's3:GetObject', obj(part), 'local crawler reads the schema'),
      use('glue', 's3:GetObject', obj(staged), 'local crawler reads staging'),
    ],
    PutObject: [use('host', 's3:PutObject', obj('reports/daily_ohlc/2026-12-04.csv'), 'run report writes the report'), use('glue', 's3:PutObject', obj('_state/crawler/x.json'), 'local crawler state')],
    DeleteObjects: [use('host', 's3:DeleteObject', obj('reports/daily_ohlc/2026-10-01.csv'), 'run report prunes old reports')],
  },
  'daemons/lib/catalog/glue-catalog.ts': {
    GetDatabase: [use('glue', 'glue:GetDatabase', db(), 'crawler')],
    CreateDatabase: [use('operator', 'glue:CreateDatabase', db(), 'bootstrap; the crawler only when the role did not create it')],
    GetTable: [use('glue', 'glue:GetTable', table('stock_market_data'), 'crawler')],
    GetTables: [use('glue', 'glue:GetTables', db(), 'crawler')],
    CreateTable: [use('glue', 'glue:CreateTable', table('stock_market_data'), 'crawler'), use('operator', 'glue:CreateTable', table('staging_stock_market_data'), 'bootstrap')],
    UpdateTable: [use('glue', 'glue:UpdateTable', table('stock_market_data'), 'crawler')],
    BatchCreatePartition: [use('glue', 'glue:BatchCreatePartition', table('stock_market_data'), 'crawler')],
    UpdatePartition: [use('glue', 'glue:UpdatePartition', table('stock_market_data'), 'crawler; compaction moves a partition')],
    GetPartitions: [use('glue', 'glue:GetPartitions', table('stock_market_data'), 'crawler')],
    GetPartition: [use('glue', 'glue:GetPartition', table('stock_market_data'), 'ETL finds where readers read a partition (protocol v3)')],
  },
  'daemons/lib/alarms.ts': {
    DescribeAlarms: [use('host', 'cloudwatch:DescribeAlarms', alarm('kafkalake-consumer-lag-high'), 'status')],
    PutMetricAlarm: [use('operator', 'cloudwatch:PutMetricAlarm', alarm('kafkalake-consumer-lag-high'), 'bootstrap')],
    // evaluateAlarms: the twin never changes an alarm's state, so kafkalake does, in local mode only
    // (scheduler.evaluateAlarms auto); on AWS, CloudWatch evaluates the alarms
    GetMetricData: [use('local', 'cloudwatch:GetMetricData', '*', 'evaluateAlarms (local mode)')],
    SetAlarmState: [use('local', 'cloudwatch:SetAlarmState', alarm('kafkalake-consumer-lag-high'), 'evaluateAlarms (local mode)')],
  },
  'daemons/cli/status-report.ts': {
    // GetMetricData has no resource type: "*" only
    GetMetricData: [use('host', 'cloudwatch:GetMetricData', '*', 'status: heartbeats and rates')],
    ListObjectsV2: [use('host', 's3:ListBucket', bucket, 'status: freshness, DLQ, bookmark')],
  },
  'daemons/lib/etl/glue-runner.ts': {
    StartJobRun: [use('host', 'glue:StartJobRun', job, 'run etl (aws)')],
    GetJobRun: [use('host', 'glue:GetJobRun', job, 'run etl (aws) polls')],
    BatchStopJobRun: [use('host', 'glue:BatchStopJobRun', job, 'run etl (aws) timed out: stop the run before the lock is released')],
  },
  'daemons/lib/etl/store.ts': {
    // CopyObject reads the source and writes the target: both lake files
    CopyObject: [
      use('glue', 's3:GetObject', obj(part), 'ETL copies a kept file into a new generation'),
      use('glue', 's3:PutObject', obj('datalake/stock_market_data/year=2021/_v000001/part-0123456789ab-00001.snappy.parquet'), 'ETL copies a kept file into a new generation'),
    ],
    ListObjectsV2: [use('host', 's3:ListBucket', bucket, 'ETL lock'), use('glue', 's3:ListBucket', bucket, 'ETL lists staging')],
    GetObject: [
      use('host', 's3:GetObject', obj('_state/kafkalake-etl.lock'), 'ETL lock'),
      use('glue', 's3:GetObject', obj(staged), 'ETL reads staging'),
      use('glue', 's3:GetObject', obj(part), 'ETL rewrites a lake file'),
      use('glue', 's3:GetObject', obj('_state/kafkalake-etl.json'), 'ETL bookmark'),
      use('glue', 's3:GetObject', obj('_state/lake/stock_market_data/year=2021.json'), 'ETL reads a partition manifest'),
      use('glue', 's3:GetObject', obj('glue/tables/stock_market_data.json'), 'the job reads its table specs'),
      use('glue', 's3:GetObject', obj('glue/scripts/etl_job.py'), 'Glue reads the job script'),
    ],
    PutObject: [
      use('host', 's3:PutObject', obj('_state/kafkalake-etl.lock'), 'ETL lock (If-None-Match)'),
      use('glue', 's3:PutObject', obj(part), 'ETL writes the lake'),
      use('glue', 's3:PutObject', obj('_state/kafkalake-etl.json'), 'ETL bookmark'),
      use('glue', 's3:PutObject', obj('_state/lake/stock_market_data/_retired.json'), 'ETL manifests and retired generations'),
      use('glue', 's3:PutObject', obj('datalake/stock_market_data/year=2021/_v000001/part-0123456789ab-00000.snappy.parquet'), 'ETL writes a new generation'),
      use('glue', 's3:PutObject', obj('_state/tmp/kafkalake-etl/stock_market_data/u/part-0.parquet'), 'ETL stages its output'),
      use('glue', 's3:PutObject', obj(dlq), 'ETL dead-letters a row'),
    ],
    DeleteObject: [
      use('host', 's3:DeleteObject', obj('_state/kafkalake-etl.lock'), 'ETL lock released'),
      use('glue', 's3:DeleteObject', obj(part), 'ETL deletes a retired generation'),
      use('glue', 's3:DeleteObject', obj('_state/tmp/kafkalake-etl/stock_market_data/u/part-0.parquet'), 'ETL moves its output'),
    ],
  },
  'daemons/lib/dashboard.ts': {
    GetDashboard: [use('operator', 'cloudwatch:GetDashboard', `arn:aws:cloudwatch::${A}:dashboard/kafkalake`, 'bootstrap')],
    PutDashboard: [use('operator', 'cloudwatch:PutDashboard', `arn:aws:cloudwatch::${A}:dashboard/kafkalake`, 'bootstrap')],
  },
  'daemons/lib/metrics.ts': {
    PutMetricData: [use('host', 'cloudwatch:PutMetricData', '*', 'every daemon’s metrics', { 'cloudwatch:namespace': 'KafkaLake' })],
  },
  'daemons/lib/athena/athena-runner.ts': {
    StartQueryExecution: [use('host', 'athena:StartQueryExecution', workgroup, 'query, run report'), ...ATHENA_READ],
    GetQueryExecution: [use('host', 'athena:GetQueryExecution', workgroup, 'query polls')],
    GetQueryResults: [use('host', 'athena:GetQueryResults', workgroup, 'query pages the results')],
    StopQueryExecution: [use('host', 'athena:StopQueryExecution', workgroup, 'query timed out')],
  },
};

// What the hosts run besides the daemons: the CloudWatch agent (cloudwatch_agent role) ships the logs
// and host metrics with the instance profile.
const AGENT: Use[] = [
  use('host', 'logs:CreateLogStream', `arn:aws:logs:${R}:${A}:log-group:/kafkalake:log-stream:i-0abc/consumer.log`, 'CloudWatch agent'),
  use('host', 'logs:PutLogEvents', `arn:aws:logs:${R}:${A}:log-group:/kafkalake:log-stream:i-0abc/consumer.log`, 'CloudWatch agent'),
  use('host', 'logs:DescribeLogStreams', `arn:aws:logs:${R}:${A}:log-group:/kafkalake`, 'CloudWatch agent'),
  use('host', 'cloudwatch:PutMetricData', '*', 'CloudWatch agent host metrics', { 'cloudwatch:namespace': 'CWAgent' }),
];
// Glue itself, running the job and the crawler with its role: its own logs, the crawler's catalog calls
// beyond the local crawler's, Spark's multipart uploads of large Parquet files.
const GLUE_SERVICE: Use[] = [
  use('glue', 'glue:GetPartition', table('stock_market_data'), 'Glue crawler'),
  use('glue', 'glue:BatchGetPartition', table('stock_market_data'), 'Glue crawler'),
  use('glue', 'glue:CreatePartition', table('stock_market_data'), 'Glue crawler'),
  use('glue', 'glue:BatchUpdatePartition', table('stock_market_data'), 'Glue crawler'),
  use('glue', 's3:ListBucketMultipartUploads', bucket, 'Spark writes large files in parts'),
  use('glue', 's3:ListMultipartUploadParts', obj(part), 'Spark writes large files in parts'),
  use('glue', 's3:AbortMultipartUpload', obj(part), 'Spark abandons an upload'),
  use('glue', 's3:GetBucketLocation', bucket, 'Glue (EMRFS) resolves the bucket region'),
  use('glue', 'logs:CreateLogGroup', `arn:aws:logs:${R}:${A}:log-group:/aws-glue/jobs/output`, 'Glue job logs'),
  use('glue', 'logs:CreateLogStream', `arn:aws:logs:${R}:${A}:log-group:/aws-glue/crawlers:log-stream:kafkalake-lake`, 'Glue crawler logs'),
  use('glue', 'logs:PutLogEvents', `arn:aws:logs:${R}:${A}:log-group:/aws-glue/jobs/error:log-stream:jr_1`, 'Glue job logs'),
  use('glue', 's3:GetObject', obj('glue/scripts/etl_job.py'), 'Glue reads the script'),
];

/** the commands each daemon source file sends: `new XCommand(` and `paginateX(` (paginators send XCommand) */
function commandsInSource(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (rel !== 'daemons/local') walk(rel);
      } else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        const text = readFileSync(path.join(PROJECT_ROOT, rel), 'utf8');
        const found = new Set([...text.matchAll(/new ([A-Z][A-Za-z0-9]+)Command\(/g), ...text.matchAll(/\bpaginate([A-Z][A-Za-z0-9]+)\(/g)].map((m) => m[1]!));
        if (found.size > 0) out[rel] = [...found].sort();
      }
    }
  };
  walk('daemons');
  return out;
}

test('every AWS SDK command the daemons send is mapped to the action and resource it needs', (t) => {
  const found = commandsInSource();
  t.deepEqual(
    Object.fromEntries(Object.entries(found).sort()),
    Object.fromEntries(Object.entries(SENT).map(([f, cmds]) => [f, Object.keys(cmds).sort()]).sort()),
    'daemons/ sends a command this map does not know (or no longer sends one it lists): map it to its action and resource',
  );
  t.true(Object.keys(found).length >= 10, 'the scan found the daemons’ AWS calls');
});

const byWho = (who: Who) => [...Object.values(SENT).flatMap((c) => Object.values(c).flat()), ...AGENT, ...GLUE_SERVICE].filter((u) => u.who === who);

test('the hosts’ policy grants every call the daemons make on the hosts, on the resource they make it on', (t) => {
  const uses = byWho('host');
  t.true(uses.length > 30);
  for (const u of uses) t.true(allows(host, u.action, u.resource, u.context), `${u.why}: ${u.action} on ${u.resource} is not granted`);
});

test('Glue’s policy grants every call of the ETL job and the crawler, on the resource they make it on', (t) => {
  const uses = byWho('glue');
  t.true(uses.length > 15);
  for (const u of uses) t.true(allows(glue, u.action, u.resource, u.context), `${u.why}: ${u.action} on ${u.resource} is not granted`);
});

test('every action a policy names is one a mapped call needs (nothing granted beyond a code path)', (t) => {
  for (const [name, policy, who] of [['host', host, 'host'], ['glue', glue, 'glue']] as const) {
    const needed = new Set(byWho(who).map((u) => u.action.toLowerCase()));
    const extra = actionsOf(policy).filter((a) => !needed.has(a.toLowerCase()));
    t.deepEqual(extra, [], `${name} policy grants actions no code path needs`);
    t.false(actionsOf(policy).some((a) => a.includes('*')), `${name}: no wildcard actions`);
  }
});

test('outside their jobs: the host cannot become Glue, nor Glue the host', (t) => {
  const denied = (p: Policy, action: string, resource: string, why: string) => {
    const by = allowedBy(p, action, resource);
    t.true(by === 'denied' || by.length === 0, `${why}: ${action} on ${resource} is granted by ${JSON.stringify(by)}`);
  };
  // the host may start the job: it must not be able to change what the job runs, nor the lake
  denied(host, 's3:PutObject', obj('glue/scripts/etl_job.py'), 'the host rewrites the job script');
  denied(host, 's3:PutObject', obj('glue/tables/stock_market_data.json'), 'the host rewrites a table spec');
  denied(host, 's3:PutObject', obj(part), 'the host writes the lake');
  denied(host, 's3:DeleteObject', obj(part), 'the host deletes the lake');
  denied(host, 's3:DeleteObject', obj(staged), 'the host deletes staging');
  denied(host, 'glue:CreateTable', table('x'), 'the host creates tables');
  denied(host, 'glue:UpdateJob', job, 'the host changes the job');
  denied(host, 'glue:StartJobRun', `arn:aws:glue:${R}:${A}:job/other`, 'the host runs another job');
  denied(host, 'iam:PassRole', `arn:aws:iam::${A}:role/kafkalake-glue`, 'the host passes Glue’s role');
  denied(host, 'cloudwatch:PutMetricData', '*', 'the host writes another namespace'); // no namespace context: the condition fails
  t.false(allows(host, 'cloudwatch:PutMetricData', '*', { 'cloudwatch:namespace': 'AWS/Glue' }), 'the host writes AWS/Glue metrics');
  denied(host, 'glue:GetTable', `arn:aws:glue:${R}:${A}:table/other/t`, 'the host reads another database');
  // Glue's role: its bucket prefixes and this database only; nothing of the hosts'
  denied(glue, 's3:PutObject', obj('glue/scripts/etl_job.py'), 'Glue rewrites its own script');
  denied(glue, 's3:PutObject', obj(staged), 'Glue writes staging');
  denied(glue, 's3:DeleteObject', obj(staged), 'Glue deletes staging');
  denied(glue, 'glue:StartJobRun', job, 'Glue starts its job');
  denied(glue, 'glue:CreateTable', `arn:aws:glue:${R}:${A}:table/other/t`, 'Glue writes another database');
  denied(glue, 'glue:DeleteTable', table('stock_market_data'), 'Glue deletes tables (the crawler logs deletions)');
  denied(glue, 's3:GetObject', 'arn:aws:s3:::another-bucket/x', 'Glue reads another bucket');
  denied(glue, 'logs:PutLogEvents', `arn:aws:logs:${R}:${A}:log-group:/kafkalake:log-stream:x`, 'Glue writes the daemons’ logs');
});

test('the role’s names are the config’s defaults (the map above uses either)', (t) => {
  const defaults = readFileSync(path.join(PROJECT_ROOT, 'ansible/roles/aws_resources/defaults/main.yml'), 'utf8');
  const schema = readFileSync(path.join(PROJECT_ROOT, 'daemons/lib/config/schema.ts'), 'utf8');
  const pairs: Array<[string, string]> = [
    ['aws_resources_glue_database', 'database'],
    ['aws_resources_glue_job_name', 'jobName'],
    ['aws_resources_crawler_name', 'crawlerName'],
    ['aws_resources_workgroup', 'workgroup'],
    ['aws_resources_metrics_namespace', 'namespace'],
    ['aws_resources_alarm_prefix', 'alarmPrefix'],
  ];
  for (const [role, key] of pairs) {
    const r = new RegExp(`^${role}: (\\S+)$`, 'm').exec(defaults)?.[1];
    const c = new RegExp(`\\b${key}: \\{[^}]*default: '([^']+)'`).exec(schema)?.[1];
    t.truthy(r, role);
    t.is(r, c, `${role} = config ${key}`);
  }
});

test('docs/deploy-aws.md shows the policies as the role renders them (B = bucket, R = region)', (t) => {
  const doc = readFileSync(path.join(PROJECT_ROOT, 'docs/deploy-aws.md'), 'utf8');
  const block = (heading: string) => {
    const at = doc.indexOf(heading);
    const m = /```json\n([\s\S]*?)\n```/.exec(doc.slice(at));
    return at >= 0 && m ? (JSON.parse(m[1]!) as Policy) : undefined;
  };
  const named = { aws_resources_bucket: 'B', aws_region: 'R' };
  t.deepEqual(block("### The hosts' IAM policy"), renderPolicy('host-policy.json.j2', named));
  t.deepEqual(block("### Glue's IAM policy"), renderPolicy('glue-policy.json.j2', named));
});
