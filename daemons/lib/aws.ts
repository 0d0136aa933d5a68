// The AWS SDK v3 clients, built from config. In both modes the daemons use the same clients; only the
// endpoint differs (the local twin in local mode). Retries are the SDK's standard strategy (jittered
// exponential backoff) with the configured attempts.
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Config } from './config/index.js';

export interface AwsClients {
  s3: S3Client;
  cloudwatch: CloudWatchClient;
  logs: CloudWatchLogsClient;
  glue: GlueClient;
  athena: AthenaClient;
  endpoint: string | undefined;
  bucket: string;
  destroy(): void;
}

/** The endpoint every client talks to: the configured override, else the twin in local mode, else AWS. */
export function awsEndpoint(c: Pick<Config, 'mode' | 'aws' | 'local'>): string | undefined {
  if (c.aws.endpoint) return c.aws.endpoint;
  if (c.mode === 'local') return `http://${c.local.host}:${c.local.awsPort}`;
  return undefined;
}

export function awsClientConfig(c: Pick<Config, 'mode' | 'aws' | 'local'>) {
  const endpoint = awsEndpoint(c);
  const staticKeys = c.aws.accessKeyId
    ? { accessKeyId: c.aws.accessKeyId, secretAccessKey: c.aws.secretAccessKey }
    : c.mode === 'local'
      ? { accessKeyId: 'local', secretAccessKey: 'local' } // the twin accepts any key
      : undefined;
  return {
    region: c.aws.region,
    maxAttempts: c.aws.maxAttempts,
    requestHandler: new NodeHttpHandler({ connectionTimeout: Math.min(c.aws.requestTimeoutMs, 5000), requestTimeout: c.aws.requestTimeoutMs }),
    ...(endpoint ? { endpoint } : {}),
    ...(staticKeys ? { credentials: staticKeys } : {}),
  };
}

export function createAwsClients(c: Pick<Config, 'mode' | 'aws' | 'local'>): AwsClients {
  const base = awsClientConfig(c);
  const s3 = new S3Client({ ...base, forcePathStyle: base.endpoint !== undefined });
  // the twin cannot read gzip request bodies, which the SDK sends for PutMetricData calls over 10 kB
  const cloudwatch = new CloudWatchClient({ ...base, ...(base.endpoint ? { disableRequestCompression: true } : {}) });
  const logs = new CloudWatchLogsClient(base);
  const glue = new GlueClient(base);
  const athena = new AthenaClient(base);
  return {
    s3,
    cloudwatch,
    logs,
    glue,
    athena,
    endpoint: base.endpoint,
    bucket: c.aws.bucket,
    destroy() {
      for (const client of [s3, cloudwatch, logs, glue, athena]) client.destroy();
    },
  };
}
