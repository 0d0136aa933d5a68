// The lake table in the Glue catalog as the ETL's pointer (local mode: the twin's catalog, in the
// database of crawl.database). A missing table is created from sql/ddl/<table>.sql, the definition
// `kafkalake bootstrap` and the Ansible role use too, so the three never disagree.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { GlueClient } from '@aws-sdk/client-glue';
import { DDL_DIR, ddlTableInput, parseDdl } from '../catalog/ddl.js';
import { glueCatalog } from '../catalog/glue-catalog.js';
import type { Config } from '../config/index.js';
import { KafkalakeError } from '../errors.js';
import { resolveFromRoot } from '../paths.js';
import { catalogPointer, type PartitionPointer } from './pointer.js';
import type { TableSpec } from './spec.js';

export function lakePointer(glue: GlueClient, config: Readonly<Config>, spec: TableSpec): Promise<PartitionPointer> {
  return catalogPointer({
    catalog: glueCatalog(glue, config.crawl.database),
    bucket: config.aws.bucket,
    spec,
    tableInput: () => {
      const file = resolveFromRoot(path.join(DDL_DIR, `${spec.table}.sql`));
      if (!existsSync(file)) throw new KafkalakeError(`the lake table ${spec.table} is not in the Glue catalog and there is no ${DDL_DIR}/${spec.table}.sql to create it from`, { where: `glue ${config.crawl.database}.${spec.table}` });
      return ddlTableInput(parseDdl(file, readFileSync(file, 'utf8')), config.aws.bucket);
    },
  });
}
