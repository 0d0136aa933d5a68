// `<dir>_$folder$` objects, which Hadoop's S3 filesystems (EMRFS on Glue) write for a directory, are no data:
// every listing of ours (the ETL's store, the crawler's and reports' bucket, the DLQ) passes over them.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { bucketOf } from '../../daemons/lib/catalog/objects.js';
import { listDlq } from '../../daemons/consumer/dlq.js';
import { isFolderMarker, s3Store } from '../../daemons/lib/etl/store.js';
import { countObjects, newestKey } from '../../daemons/cli/status-report.js';
import { newestObject } from '../../daemons/consumer/recovery.js';
import { startTestStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
let bucket: string;
let aws: ReturnType<typeof createAwsClients>;
test.before(async () => {
  stack = await startTestStack({ withKafka: false });
  bucket = await stack.bucket();
  aws = createAwsClients(stack.config({ aws: { bucket } }));
  const put = (Key: string, Body: string) => aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
  for (const k of ['datalake_$folder$', 'datalake/t_$folder$', 'datalake/t/year=2020_$folder$', 'staging/_dlq/t/dt=2026-01-01_$folder$', 'staging/t/dt=2026-01-01_$folder$']) await put(k, '');
  await put('datalake/t/year=2020/part-0.parquet', 'x');
  await put('staging/_dlq/t/dt=2026-01-01/t+0+00000000000000000001+00000000000000000002.jsonl.gz', 'x');
  await put('staging/t/dt=2026-01-01/t+0+00000000000000000001+00000000000000000002.jsonl.gz', 'x');
  // S3's LastModified has whole seconds: the markers below are the newest objects
  await new Promise((r) => setTimeout(r, 1100));
  for (const k of ['staging/_dlq/t/dt=2026-01-01/partition=0_$folder$', 'staging/t/dt=2026-01-01/partition=0_$folder$']) await put(k, '');
});
test.after.always(async () => {
  aws?.destroy();
  await stack?.stop();
});

test('the marker test', (t) => {
  t.true(isFolderMarker('datalake/t/year=2020_$folder$'));
  t.false(isFolderMarker('datalake/t/year=2020/part-0.parquet'));
});

test('the ETL store’s listings pass over folder markers', async (t) => {
  const store = s3Store(aws.s3, bucket);
  t.deepEqual((await store.list('datalake')).map((o) => o.key), ['datalake/t/year=2020/part-0.parquet']);
  t.deepEqual((await store.list('staging/t/')).map((o) => o.key), ['staging/t/dt=2026-01-01/t+0+00000000000000000001+00000000000000000002.jsonl.gz']);
});

test('the crawler’s and reports’ bucket listing passes over folder markers', async (t) => {
  const b = bucketOf(aws.s3, bucket);
  t.deepEqual((await b.list('datalake/')).map((o) => o.key), ['datalake/t/year=2020/part-0.parquet']);
  const folder = await b.listFolder('datalake/t/');
  t.deepEqual(folder.objects.map((o) => o.key), []);
  t.deepEqual(folder.folders, ['datalake/t/year=2020/']);
});

test('the DLQ listing passes over folder markers', async (t) => {
  const all = await listDlq({ s3: aws.s3, bucket, prefix: 'staging' });
  t.deepEqual(all.map((o) => o.key), ['staging/_dlq/t/dt=2026-01-01/t+0+00000000000000000001+00000000000000000002.jsonl.gz']);
});

test('status: the newest staging object and the DLQ count pass over folder markers', async (t) => {
  t.is((await newestKey(aws.s3, bucket, 'staging/t/'))?.key, 'staging/t/dt=2026-01-01/t+0+00000000000000000001+00000000000000000002.jsonl.gz');
  t.deepEqual(await countObjects(aws.s3, bucket, 'staging/_dlq/t/'), { objects: 1, truncated: false, byKind: {} });
});

test('the consumer’s recovery passes over folder markers', async (t) => {
  const n = await newestObject({ s3: aws.s3, bucket, prefix: 'staging' }, 't', 0);
  t.is(n?.last, 2);
});
