// `<dir>_$folder$` objects, which Hadoop's S3 filesystems (EMRFS on Glue) write for a directory, are no data:
// every listing of ours (the ETL's store, the crawler's and reports' bucket, the DLQ) passes over them.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import test from 'ava';
import { createAwsClients } from '../../daemons/lib/aws.js';
import { bucketOf } from '../../daemons/lib/catalog/objects.js';
import { listDlq } from '../../daemons/consumer/dlq.js';
import { isFolderMarker, s3Store } from '../../daemons/lib/etl/store.js';
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
  t.deepEqual((await store.list('staging/t/')).map((o) => o.key), []);
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
