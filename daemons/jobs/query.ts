// The mode's query engine: Athena in aws mode, DuckDB over the twin's catalog in local mode. Both
// take Athena-dialect SQL and give the same QueryResult; the database is crawl.database.
import type { GlueClient } from '@aws-sdk/client-glue';
import { createAthenaRunner } from '../lib/athena/athena-runner.js';
import type { QueryEngine } from '../lib/athena/result.js';
import { createAwsClients } from '../lib/aws.js';
import { type Bucket, bucketOf } from '../lib/catalog/objects.js';
import type { Config } from '../lib/config/index.js';
import { KafkalakeError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { resolveFromRoot } from '../lib/paths.js';
import { createLocalSqlEngine, type LocalSqlDeps } from '../local/sql/engine.js';

/** The local engine's settings from the config (reports.*, crawl.database, local.venvDir). */
export function localSqlDeps(config: Readonly<Config>, glue: GlueClient, bucket: Bucket, log: Logger): LocalSqlDeps {
  return {
    glue,
    bucket,
    database: config.crawl.database,
    cacheDir: resolveFromRoot(config.reports.cacheDir),
    outputPrefix: config.reports.outputPrefix,
    memoryMb: config.reports.memoryMb,
    threads: config.reports.threads,
    copyBelowBytes: config.reports.copyBelowMb * 1024 * 1024,
    venvDir: resolveFromRoot(config.local.venvDir),
    log,
  };
}

export function createQueryEngine(config: Readonly<Config>, log: Logger): QueryEngine {
  if (!config.aws.bucket) throw new KafkalakeError('aws.bucket is empty: queries need the bucket of the lake and of the results', { where: 'config aws.bucket' });
  const aws = createAwsClients(config);
  const bucket = bucketOf(aws.s3, config.aws.bucket);
  const qlog = log.child({ component: 'query' });
  const engine =
    config.mode === 'aws'
      ? createAthenaRunner({
          athena: aws.athena,
          workgroup: config.reports.workgroup,
          database: config.crawl.database,
          outputLocation: bucket.uri(config.reports.outputPrefix),
          pollMinMs: config.reports.pollMinMs,
          pollMaxMs: config.reports.pollMaxMs,
          timeoutMs: config.reports.timeoutMs,
          log: qlog,
        })
      : createLocalSqlEngine(localSqlDeps(config, aws.glue, bucket, qlog));
  return {
    query: (sql, where) => engine.query(sql, where),
    close: () => {
      if ('close' in engine) engine.close();
      aws.destroy();
    },
  };
}
