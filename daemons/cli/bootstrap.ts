// kafkalake bootstrap — create the AWS resources the pipeline needs (the twin's in local mode),
// idempotently: the bucket, the Glue database, the staging and DLQ tables of sql/ddl (so the reports
// run before anything was dead-lettered), the alarms of config/alarms.json and the dashboard.
// A second run changes nothing and says so. Each step is a row of STEPS: add one to add a resource.
import { CreateDatabaseCommand, GetDatabaseCommand } from '@aws-sdk/client-glue';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { DDL_DIR, ddlTableInput, loadDdl } from '../lib/catalog/ddl.js';
import { glueCatalog } from '../lib/catalog/glue-catalog.js';
import { alarmsFromConfig, describeAlarms, putAlarms } from '../lib/alarms.js';
import { type AwsClients, createAwsClients } from '../lib/aws.js';
import type { Config } from '../lib/config/index.js';
import { dashboardBody, dashboardJobs, putDashboard } from '../lib/dashboard.js';
import { KafkalakeError, wrap } from '../lib/errors.js';
import { loadSpecs } from '../lib/etl/spec.js';
import { resolveFromRoot } from '../lib/paths.js';
import { listReportFiles } from '../scheduler/report-files.js';
import { type Command, context, parse } from './context.js';

export type StepResult = { resource: string; result: 'created' | 'updated' | 'unchanged'; detail?: string };
export interface BootstrapStep {
  name: string;
  run(c: Readonly<Config>, aws: AwsClients): Promise<StepResult[]>;
}

/** the table definitions (Athena DDL); the ones headed "-- bootstrap: create" are made here */

const status = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

export const STEPS: BootstrapStep[] = [
  {
    name: 'bucket',
    async run(c, aws) {
      const resource = `s3://${c.aws.bucket}`;
      try {
        await aws.s3.send(new HeadBucketCommand({ Bucket: c.aws.bucket }));
        return [{ resource, result: 'unchanged' }];
      } catch (err) {
        if (status(err) !== 404 && (err as { name?: string }).name !== 'NotFound') throw wrap(err, resource, 'HeadBucket failed');
      }
      try {
        await aws.s3.send(new CreateBucketCommand({ Bucket: c.aws.bucket, ...(c.aws.region !== 'us-east-1' ? { CreateBucketConfiguration: { LocationConstraint: c.aws.region as never } } : {}) }));
      } catch (err) {
        throw wrap(err, resource, 'CreateBucket failed');
      }
      return [{ resource, result: 'created' }];
    },
  },
  {
    name: 'glue database',
    async run(c, aws) {
      const resource = `glue database ${c.crawl.database}`;
      try {
        await aws.glue.send(new GetDatabaseCommand({ Name: c.crawl.database }));
        return [{ resource, result: 'unchanged' }];
      } catch (err) {
        if ((err as { name?: string }).name !== 'EntityNotFoundException') throw wrap(err, resource, 'GetDatabase failed');
      }
      try {
        await aws.glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: c.crawl.database, Description: 'kafkalake: the Parquet lake of the Kafka topics' } }));
      } catch (err) {
        throw wrap(err, resource, 'CreateDatabase failed');
      }
      return [{ resource, result: 'created' }];
    },
  },
  {
    // created once; afterwards the crawler owns them (their schema and partitions), so an existing table is left as it is
    name: 'glue tables',
    async run(c, aws) {
      const catalog = glueCatalog(aws.glue, c.crawl.database);
      const out: StepResult[] = [];
      for (const d of loadDdl(resolveFromRoot(DDL_DIR)).filter((t) => t.bootstrap)) {
        const resource = `glue table ${c.crawl.database}.${d.name}`;
        out.push({ resource, result: (await catalog.createTableIfMissing(ddlTableInput(d, c.aws.bucket))) ? 'created' : 'unchanged' });
      }
      return out;
    },
  },
  {
    name: 'alarms',
    async run(c, aws) {
      const { defs, settings } = alarmsFromConfig(c, resolveFromRoot);
      const r = await putAlarms(aws.cloudwatch, defs, settings);
      return [
        ...r.created.map((a) => ({ resource: `alarm ${a}`, result: 'created' as const })),
        ...r.updated.map((a) => ({ resource: `alarm ${a}`, result: 'updated' as const })),
        ...r.unchanged.map((a) => ({ resource: `alarm ${a}`, result: 'unchanged' as const })),
      ];
    },
  },
  {
    name: 'dashboard',
    async run(c, aws) {
      const arns = (await describeAlarms(aws.cloudwatch, c.monitoring.alarmPrefix)).map((a) => a.AlarmArn ?? '').filter(Boolean);
      const reports = listReportFiles(resolveFromRoot(c.reports.dir)).map((r) => r.name);
      const body = dashboardBody({ namespace: c.metrics.namespace, region: c.aws.region, topic: c.kafka.topic, periodSeconds: c.monitoring.periodSeconds, alarmArns: arns, jobs: dashboardJobs(reports), tables: loadSpecs(resolveFromRoot(c.etl.specDir)).map((t) => t.table) });
      return [{ resource: `dashboard ${c.monitoring.dashboardName}`, result: await putDashboard(aws.cloudwatch, c.monitoring.dashboardName, body) }];
    },
  },
];

export async function bootstrapAll(c: Readonly<Config>, steps: readonly BootstrapStep[] = STEPS): Promise<StepResult[]> {
  if (!c.aws.bucket) throw new KafkalakeError('aws.bucket is empty: bootstrap creates that bucket', { where: 'config aws.bucket' });
  const aws = createAwsClients(c);
  try {
    const out: StepResult[] = [];
    for (const s of steps) out.push(...(await s.run(c, aws)));
    return out;
  } finally {
    aws.destroy();
  }
}

const usage = 'kafkalake bootstrap [--config FILE] [--json]';

export const bootstrap: Command = {
  name: 'bootstrap',
  summary: 'create the bucket, Glue database and tables, alarms and dashboard (the twin’s in local mode), idempotently',
  usage,
  async run(args) {
    const { values } = parse(args, { json: { type: 'boolean' } }, usage);
    if (values.help) {
      process.stdout.write(`usage: ${usage}\n`);
      return 0;
    }
    const ctx = context('bootstrap', values.config, {}, 'stderr');
    const results = await bootstrapAll(ctx.config);
    if (values.json) process.stdout.write(`${JSON.stringify(results)}\n`);
    else {
      for (const r of results) process.stdout.write(`${r.result.padEnd(9)} ${r.resource}\n`);
      const changed = results.filter((r) => r.result !== 'unchanged').length;
      process.stdout.write(changed === 0 ? 'bootstrap: nothing to change\n' : `bootstrap: ${changed} of ${results.length} resources created or updated\n`);
    }
    return 0;
  },
};
