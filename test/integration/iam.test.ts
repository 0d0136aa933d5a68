// IAM proven by running under it. The aws_resources role runs against the twin (as the site test runs
// it), so the hosts' and Glue's policies are the ones Ansible rendered and attached; users carrying them
// get keys; the twin's authorization is turned on (moto's INITIAL_NO_AUTH_ACTION_COUNT, through
// /moto-api/reset-auth); then the daemons' commands run with those keys: every call they make must be
// allowed, and what lies outside a role's job (the host writing the job script, deleting or writing the
// lake, creating tables; Glue starting its own job) is denied.
//
// What the twin can judge: moto checks the action of every request, and the resource only for S3
// (bucket and key ARNs): "TODO add support for the Resource and Condition parts of IAM policies"
// (moto/iam/access_control.py); for other services it matches statements against the resource "*"
// and has no CloudWatch condition keys. So the users carry the rendered policies with, for non-S3
// statements only, the resource widened to "*" and conditions dropped; the resources and the namespace
// condition of those statements are checked by test/unit/policy.test.ts against every SDK command.
// moto also names an action after the request's signing name, which for CloudWatch is "monitoring"
// where IAM says "cloudwatch": the users' copies say monitoring:<Action>.
//
// Also: the role creates the staging and DLQ tables (defect 2), one crawler target per lake table
// (defect 9), retries the Glue tasks while a new role propagates (defect 10), and Glue's role carries
// no managed policy (defect 6).
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { BatchStopJobRunCommand, CreateTableCommand, GetCrawlerCommand, GetCrawlerMetricsCommand, GetTableCommand, StartCrawlerCommand, StartJobRunCommand, StopCrawlerCommand } from '@aws-sdk/client-glue';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { Kafka, logLevel } from 'kafkajs';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { ddlTableInput, loadDdl } from '../../daemons/lib/catalog/ddl.js';
import { loadSpecs } from '../../daemons/lib/etl/spec.js';
import { PROJECT_ROOT } from '../../daemons/lib/paths.js';
import type { Policy } from '../helpers/policy.js';
import { renderPolicy } from '../helpers/policy.js';
import { startTestStack, type TestStack, unique } from '../helpers/stack.js';

const run = promisify(execFile);
const CLI = path.join(PROJECT_ROOT, 'dist/daemons/cli/main.js');
const ANSIBLE_DIR = path.join(PROJECT_ROOT, 'ansible');
const REGION = 'us-east-1';
const BUCKET = unique('kl-iam').toLowerCase();
// the topic the ETL's table spec reads (glue/tables/stock_market_data.json); this file has a Kafka of its own
const TOPIC = 'stock_market_data';

let stack: TestStack;
const PYTHON = path.join(PROJECT_ROOT, '.kafkalake/venv/bin/python');
type Who = 'host' | 'glue';
let keys: Record<Who, { accessKeyId: string; secretAccessKey: string }>;
let attached: Record<Who, Policy>;
let glueManagedPolicies: string[];
let roleOutput = '';

// IAM is eventually consistent: Glue refuses a role created a moment ago ("Service is unable to assume
// provided role. Please verify role's TrustPolicy", InvalidInputException, the error CreateCrawler and
// CreateJob answer right after CreateRole). The twin knows no propagation delay, so the role runs through
// this proxy, which forwards every request to the twin unchanged except the first LAGGED CreateJob and
// CreateCrawler calls, answered as Glue answers them while the role propagates.
const LAGGED = 2;
const refused: Record<string, number> = { CreateJob: 0, CreateCrawler: 0 };
let lagProxy: http.Server | undefined;
async function iamLagProxy(target: string): Promise<string> {
  lagProxy = http.createServer((req, res) => {
    const op = String(req.headers['x-amz-target'] ?? '').replace(/^AWSGlue\./, '');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (op in refused && refused[op]! < LAGGED) {
        refused[op]! += 1;
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'InvalidInputException' });
        res.end(JSON.stringify({ __type: 'InvalidInputException', message: "Service is unable to assume provided role. Please verify role's TrustPolicy" }));
        return;
      }
      const up = http.request(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => lagProxy!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(lagProxy.address() as AddressInfo).port}`;
}

function inventory(endpoint: string): string {
  const file = path.join(stack.dir, 'inventory.json');
  const localhost = {
    ansible_connection: 'local',
    ansible_python_interpreter: path.join(PROJECT_ROOT, '.kafkalake/venv/bin/python'),
    aws_resources_endpoint_url: endpoint,
    aws_resources_region: REGION,
    aws_resources_access_key: 'admin',
    aws_resources_secret_key: 'admin',
    aws_resources_bucket: BUCKET,
    aws_resources_topic: TOPIC,
    aws_resources_source_dir: PROJECT_ROOT,
    aws_resources_iam_retry_delay_seconds: 1,
  };
  writeFileSync(file, JSON.stringify({ all: { hosts: { localhost } } }));
  return file;
}

async function playbook(endpoint: string): Promise<{ code: number; output: string }> {
  return await new Promise((resolve) => {
    const child = spawn('ansible-playbook', ['-i', inventory(endpoint), 'site.yml', '--tags', 'aws_resources'], {
      cwd: ANSIBLE_DIR,
      env: { ...process.env, ANSIBLE_CONFIG: path.join(ANSIBLE_DIR, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1', ANSIBLE_DEPRECATION_WARNINGS: 'false' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

// The users, made with boto3 before authorization is on (this project's SDK has no IAM client): each
// carries its role's policy as the role attached it, as the twin can judge it (see the header): S3
// statements as rendered, the others on the resource "*" without their conditions.
const USERS = `
import json, sys, urllib.parse, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="admin", aws_secret_access_key="admin")
def twin(p):
    out = []
    for s in p["Statement"]:
        res = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        if not all(r.startswith("arn:aws:s3:::") for r in res):
            s = {k: v for k, v in s.items() if k != "Condition"}
            s["Resource"] = "*"
            acts = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            s["Action"] = [a.replace("cloudwatch:", "monitoring:", 1) for a in acts]
        out.append(s)
    return dict(p, Statement=out)
res = {"keys": {}, "attached": {}}
for who in ("host", "glue"):
    role = "kafkalake-" + who
    doc = iam.get_role_policy(RoleName=role, PolicyName=role)["PolicyDocument"]
    doc = json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc
    res["attached"][who] = doc
    name = who + "-" + sys.argv[2]
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=role, PolicyDocument=json.dumps(twin(doc)))
    k = iam.create_access_key(UserName=name)["AccessKey"]
    res["keys"][who] = {"accessKeyId": k["AccessKeyId"], "secretAccessKey": k["SecretAccessKey"]}
res["glueManaged"] = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="kafkalake-glue")["AttachedPolicies"]]
print(json.dumps(res))
`;

// The Glue job and crawler tasks of the role, read with PyYAML (the daemons have no YAML reader).
const TASKS = `
import json, sys, yaml
print(json.dumps({"tasks": yaml.safe_load(open(sys.argv[1] + "/tasks/glue.yml")), "defaults": yaml.safe_load(open(sys.argv[1] + "/defaults/main.yml"))}))
`;

const hostConfig = (extra: Record<string, unknown> = {}) =>
  stack.configFile({ mode: 'aws', kafka: { topic: TOPIC }, aws: { bucket: BUCKET, region: REGION, ...keys.host }, ...extra });
// the local engines stand in for Glue's job and crawler; the CloudWatch metrics are the CLI's, not Glue's
const glueConfig = () => stack.configFile({ mode: 'local', kafka: { topic: TOPIC }, metrics: { enabled: false }, aws: { bucket: BUCKET, region: REGION, ...keys.glue } });

async function cli(args: string[], configFile: string, timeout = 120_000): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...args, '--config', configFile], { timeout, maxBuffer: 16 << 20 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? e.message}` };
  }
}

// The twin answers a denied JSON-protocol call (Glue, Athena, CloudWatch) with an XML ErrorResponse, which
// the SDK reports as a deserialization error ("Unexpected token '<'") of a 403: that is a denial too.
/** the keys under `prefix`, listed with the host's keys (ListBucket is the host's) */
async function keysUnder(prefix: string): Promise<string[]> {
  const aws = createAwsClients(stack.config({ mode: 'aws', aws: { bucket: BUCKET, region: REGION, ...keys.host } }));
  try {
    return ((await aws.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key ?? '');
  } finally {
    aws.destroy();
  }
}

const denied = (out: string) => /AccessDenied|not authorized|InvalidClientTokenId|SignatureDoesNotMatch|Unexpected token '<'|status code 403/i.test(out);

test.before(async (t) => {
  t.timeout(8 * 60_000);
  stack = await startTestStack();
  const r = await playbook(await iamLagProxy(stack.awsEndpoint));
  roleOutput = r.output;
  if (r.code !== 0) throw new Error(`the aws_resources role failed against the twin (exit ${r.code}):\n${r.output.split('\n').filter((l) => /fatal|FAILED|ERROR|error/.test(l)).slice(-15).join('\n')}`);
  const made = JSON.parse((await run(PYTHON, ['-c', USERS, stack.awsEndpoint, BUCKET])).stdout) as { keys: typeof keys; attached: typeof attached; glueManaged: string[] };
  ({ keys, attached } = made);
  glueManagedPolicies = made.glueManaged;
  // the topic, before authorization is on (Kafka is no AWS service)
  const kafka = new Kafka({ brokers: stack.brokers, logLevel: logLevel.NOTHING });
  const adminK = kafka.admin();
  await adminK.connect();
  await adminK.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  await adminK.disconnect();
  const res = await fetch(`${stack.awsEndpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
  if (!res.ok) throw new Error(`moto reset-auth: ${res.status}`);
});

test.after.always(async () => {
  lagProxy?.close();
  await stack?.stop();
});

test.serial('the roles carry exactly the rendered policies; Glue’s role no managed policy (AWSGlueServiceRole is glue:* on *)', async (t) => {
  const vars = { aws_resources_bucket: BUCKET, aws_resources_region: REGION };
  t.deepEqual(attached.host, renderPolicy('host-policy.json.j2', vars));
  t.deepEqual(attached.glue, renderPolicy('glue-policy.json.j2', vars));
  t.deepEqual(glueManagedPolicies, []);
  await fetch(`${stack.awsEndpoint}/moto-api/reset-auth`, { method: 'POST', body: 'inf' });
  try {
    // defect 2: the staging and DLQ tables, as bootstrap makes them; defect 9: a crawler target per lake table
    const aws = createAwsClients(stack.config({ aws: { bucket: BUCKET, region: REGION } }));
    for (const d of loadDdl(path.join(PROJECT_ROOT, 'sql/ddl')).filter((x) => x.bootstrap)) {
      const table = (await aws.glue.send(new GetTableCommand({ DatabaseName: 'kafkalake', Name: d.name }))).Table;
      t.deepEqual(table?.StorageDescriptor?.Columns, ddlTableInput(d, BUCKET).StorageDescriptor?.Columns, d.name);
      t.is(table?.StorageDescriptor?.Location, `s3://${BUCKET}/${d.location.replace('s3://${BUCKET}/', '')}`);
      // staging and the DLQ are partition-projected by dt; the lake's partitions are the ETL's to register
      t.is(table?.Parameters?.['projection.enabled'], d.name === 'stock_market_data' ? undefined : 'true', d.name);
    }
    const crawler = (await aws.glue.send(new GetCrawlerCommand({ Name: 'kafkalake-lake' }))).Crawler;
    const specs = loadSpecs(path.join(PROJECT_ROOT, 'glue/tables'));
    t.deepEqual(crawler?.Targets?.S3Targets?.map((x) => x.Path), specs.map((s) => `s3://${BUCKET}/${s.target.prefix}`));
    t.false(crawler?.Targets?.S3Targets?.some((x) => x.Path === `s3://${BUCKET}/datalake/`));
    // the ETL's generation folders are not crawled (it moves the partitions to them itself)
    t.deepEqual(crawler?.Targets?.S3Targets?.map((x) => x.Exclusions), specs.map(() => ['**/_v[0-9]*/**']));
    aws.destroy();
  } finally {
    await fetch(`${stack.awsEndpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
  }
  // defect 10: CreateJob / CreateCrawler retried (bounded) while the new role propagates: refused twice
  // each by the proxy, the run went on and created both (checked above, and by the run's exit code)
  t.deepEqual(refused, { CreateJob: LAGGED, CreateCrawler: LAGGED });
  t.regex(roleOutput, /FAILED - RETRYING: \[localhost\]: Create the Glue ETL job/);
  t.regex(roleOutput, /FAILED - RETRYING: \[localhost\]: Create the Glue crawler/);
  const { tasks, defaults } = JSON.parse((await run(PYTHON, ['-c', TASKS, path.join(ANSIBLE_DIR, 'roles/aws_resources')])).stdout) as {
    tasks: Record<string, unknown>[];
    defaults: Record<string, number>;
  };
  for (const mod of ['community.aws.glue_job', 'community.aws.glue_crawler']) {
    const task = tasks.find((x) => mod in x);
    t.truthy(task, mod);
    t.regex(String(task?.until), / is not failed$/, mod);
    t.regex(String(task?.retries), /aws_resources_iam_retries/, mod);
  }
  t.true(defaults.aws_resources_iam_retries! * defaults.aws_resources_iam_retry_delay_seconds! <= 120, 'bounded: at most two minutes');
});

test.serial('the host role: producer, consumer and dlq list|replay make only allowed calls', async (t) => {
  t.timeout(4 * 60_000);
  const cfg = hostConfig({ metrics: { flushIntervalMs: 500 } });
  const produced = await cli(['produce', '--source', 'simulate', '--count', '200', '--rate', '1000'], cfg);
  t.is(produced.code, 0, produced.out);
  t.false(denied(produced.out), produced.out);
  // one record that is not JSON, so the consumer dead-letters it and dlq has something to replay
  const kafka = new Kafka({ brokers: stack.brokers, logLevel: logLevel.NOTHING });
  const p = kafka.producer();
  await p.connect();
  await p.send({ topic: TOPIC, messages: [{ key: 'bad', value: 'not json {' }] });
  await p.disconnect();
  const consumed = await cli(['consume', '--once'], cfg);
  t.is(consumed.code, 0, consumed.out);
  t.false(denied(consumed.out), consumed.out);
  t.true((await keysUnder(`staging/${TOPIC}/`)).length > 0, 'the consumer staged with the host’s keys');
  const list = await cli(['dlq', 'list'], cfg);
  t.is(list.code, 0, list.out);
  t.regex(list.out, /staging\/_dlq\//);
  const replay = await cli(['dlq', 'replay', '--all'], cfg);
  t.is(replay.code, 0, replay.out);
  t.false(denied(replay.out), replay.out);
});

test.serial('the Glue role: the ETL and the crawl (the local engines with Glue’s keys) make only allowed calls', async (t) => {
  t.timeout(4 * 60_000);
  const cfg = glueConfig();
  const etl = await cli(['run', 'etl'], cfg);
  t.is(etl.code, 0, etl.out);
  t.false(denied(etl.out), etl.out);
  t.true((await keysUnder('datalake/stock_market_data/')).some((k) => k.endsWith('.parquet')), 'the ETL wrote the lake with Glue’s keys');
  const crawl = await cli(['run', 'crawl'], cfg);
  t.is(crawl.code, 0, crawl.out);
  t.false(denied(crawl.out), crawl.out);
});

test.serial('the host role in aws mode: run etl, query, run report, status make only allowed calls', async (t) => {
  t.timeout(4 * 60_000);
  const cfg = hostConfig();
  const etl = await cli(['run', 'etl'], cfg);
  t.is(etl.code, 0, etl.out);
  t.false(denied(etl.out), etl.out);
  for (const args of [['query', 'SELECT 1'], ['run', 'report', 'daily_ohlc']]) {
    const r = await cli(args, cfg);
    t.false(denied(r.out), `${args.join(' ')}: ${r.out}`);
    t.is(r.code, 0, `${args.join(' ')}: ${r.out}`);
  }
  t.true((await keysUnder('reports/daily_ohlc/')).some((k) => k.endsWith('.csv')), 'the report was written with the host’s keys');
  // status exits non-zero while the pipeline is unhealthy (no scheduler runs here): every section must have been read
  const status = await cli(['status', '--json'], cfg);
  const report = JSON.parse(status.out.slice(status.out.indexOf('{'))) as Record<string, { ok?: boolean; error?: string }>;
  for (const section of ['daemons', 'rates', 'lag', 'freshness', 'jobs', 'dlq', 'alarms']) t.true(report[section]?.ok, `status ${section}: ${report[section]?.error}`);
  t.false(denied(status.out), status.out);
});

test.serial('the host role: the crawler runner’s and the ETL stop’s calls are allowed (called one by one: the twin’s crawls never finish)', async (t) => {
  const aws = createAwsClients(stack.config({ mode: 'aws', aws: { bucket: BUCKET, region: REGION, ...keys.host } }));
  // Allowed: no 403. The twin authorizes a call before it looks for its handler, and it has none for
  // GetCrawlerMetrics and BatchStopJobRun (it answers 500): for those, passing authorization is all it can show.
  const authorized = async (p: Promise<unknown>, what: string, implemented = true) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } },
    );
    if (implemented) t.is(err, undefined, `${what}: ${err?.name} ${err?.message}`);
    else t.not(err?.$metadata?.httpStatusCode, 403, `${what}: ${err?.name} ${err?.message}`);
  };
  try {
    await authorized(aws.glue.send(new StartCrawlerCommand({ Name: 'kafkalake-lake' })), 'glue:StartCrawler');
    await authorized(aws.glue.send(new GetCrawlerCommand({ Name: 'kafkalake-lake' })), 'glue:GetCrawler');
    await authorized(aws.glue.send(new StopCrawlerCommand({ Name: 'kafkalake-lake' })), 'glue:StopCrawler');
    await authorized(aws.glue.send(new GetCrawlerMetricsCommand({ CrawlerNameList: ['kafkalake-lake'] })), 'glue:GetCrawlerMetrics', false);
    await authorized(aws.glue.send(new BatchStopJobRunCommand({ JobName: 'kafkalake-etl', JobRunIds: ['jr_none'] })), 'glue:BatchStopJobRun', false);
  } finally {
    aws.destroy();
  }
});

test.serial('outside its job: the host cannot write the job script, write or delete the lake, create tables or start another job', async (t) => {
  const aws = createAwsClients(stack.config({ mode: 'aws', aws: { bucket: BUCKET, region: REGION, ...keys.host } }));
  const glue = createAwsClients(stack.config({ mode: 'aws', aws: { bucket: BUCKET, region: REGION, ...keys.glue } }));
  const isDenied = async (p: Promise<unknown>, what: string) => {
    const err = await t.throwsAsync(p, undefined, what);
    t.is((err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode, 403, `${what}: ${err?.name} ${err?.message}`);
  };
  try {
    await isDenied(aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'glue/scripts/etl_job.py', Body: 'import os' })), 'host PUT glue/scripts/etl_job.py');
    await isDenied(aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'datalake/stock_market_data/x.parquet', Body: 'x' })), 'host PUT datalake/');
    await isDenied(aws.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'datalake/stock_market_data/x.parquet' })), 'host DELETE datalake/');
    await isDenied(aws.glue.send(new CreateTableCommand({ DatabaseName: 'kafkalake', TableInput: { Name: 'evil' } })), 'host glue:CreateTable');
    await isDenied(glue.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'glue/scripts/etl_job.py', Body: 'import os' })), 'Glue PUT glue/scripts/');
    await isDenied(glue.glue.send(new StartJobRunCommand({ JobName: 'kafkalake-etl' })), 'Glue glue:StartJobRun');
    // and what it may do is allowed, so the denials above are the policy's, not a broken key
    await t.notThrowsAsync(aws.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'staging/_probe', Body: 'x' })));
  } finally {
    aws.destroy();
    glue.destroy();
  }
});
