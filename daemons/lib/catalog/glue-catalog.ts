// The Glue Data Catalog calls the crawler and the local SQL engine make (the same in both modes:
// the twin's Glue API locally). Pagination is followed; "not found" is undefined, not an error.
import {
  BatchCreatePartitionCommand,
  CreateDatabaseCommand,
  CreateTableCommand,
  GetDatabaseCommand,
  GetPartitionCommand,
  GetPartitionsCommand,
  GetTableCommand,
  GetTablesCommand,
  type GlueClient,
  type Partition,
  type PartitionInput,
  type Table,
  type TableInput,
  UpdatePartitionCommand,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import { wrap } from '../errors.js';

const notFound = (err: unknown) => (err as { name?: string })?.name === 'EntityNotFoundException';

export function glueCatalog(glue: GlueClient, database: string) {
  const where = (table?: string) => `glue ${database}${table ? `.${table}` : ''}`;
  return {
    database,
    async ensureDatabase(description: string): Promise<boolean> {
      try {
        await glue.send(new GetDatabaseCommand({ Name: database }));
        return false;
      } catch (err) {
        if (!notFound(err)) throw wrap(err, where(), 'cannot read the Glue database');
      }
      try {
        await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database, Description: description } }));
        return true;
      } catch (err) {
        if ((err as { name?: string }).name === 'AlreadyExistsException') return false;
        throw wrap(err, where(), 'cannot create the Glue database');
      }
    },
    async getTable(name: string): Promise<Table | undefined> {
      try {
        return (await glue.send(new GetTableCommand({ DatabaseName: database, Name: name }))).Table;
      } catch (err) {
        if (notFound(err)) return undefined;
        throw wrap(err, where(name), 'cannot read the table');
      }
    },
    async getTables(): Promise<Table[]> {
      const out: Table[] = [];
      let token: string | undefined;
      try {
        do {
          const page = await glue.send(new GetTablesCommand({ DatabaseName: database, NextToken: token }));
          out.push(...(page.TableList ?? []));
          token = page.NextToken;
        } while (token);
      } catch (err) {
        if (notFound(err)) return [];
        throw wrap(err, where(), 'cannot list the tables');
      }
      return out;
    },
    async createTable(input: TableInput): Promise<void> {
      try {
        await glue.send(new CreateTableCommand({ DatabaseName: database, TableInput: input }));
      } catch (err) {
        throw wrap(err, where(input.Name), 'cannot create the table');
      }
    },
    /** CreateTable unless the table exists (then it is left as it is); true when created. */
    async createTableIfMissing(input: TableInput): Promise<boolean> {
      try {
        await glue.send(new CreateTableCommand({ DatabaseName: database, TableInput: input }));
        return true;
      } catch (err) {
        if ((err as { name?: string }).name === 'AlreadyExistsException') return false;
        throw wrap(err, where(input.Name), 'cannot create the table');
      }
    },
    async updateTable(input: TableInput): Promise<void> {
      try {
        await glue.send(new UpdateTableCommand({ DatabaseName: database, TableInput: input }));
      } catch (err) {
        throw wrap(err, where(input.Name), 'cannot update the table');
      }
    },
    /** BatchCreatePartition in chunks of 100; partitions that already exist are counted, other failures returned. */
    async createPartitions(table: string, inputs: PartitionInput[]): Promise<{ created: number; existed: number; failed: Array<{ values: string[]; reason: string }> }> {
      const res = { created: 0, existed: 0, failed: [] as Array<{ values: string[]; reason: string }> };
      for (let i = 0; i < inputs.length; i += 100) {
        const chunk = inputs.slice(i, i + 100);
        let out;
        try {
          out = await glue.send(new BatchCreatePartitionCommand({ DatabaseName: database, TableName: table, PartitionInputList: chunk }));
        } catch (err) {
          throw wrap(err, where(table), 'cannot create partitions');
        }
        const errors = out.Errors ?? [];
        for (const e of errors) {
          if (e.ErrorDetail?.ErrorCode === 'AlreadyExistsException') res.existed++;
          else res.failed.push({ values: e.PartitionValues ?? [], reason: `${e.ErrorDetail?.ErrorCode ?? 'error'}: ${e.ErrorDetail?.ErrorMessage ?? ''}` });
        }
        res.created += chunk.length - errors.length;
      }
      return res;
    },
    async updatePartition(table: string, values: string[], input: PartitionInput): Promise<void> {
      try {
        await glue.send(new UpdatePartitionCommand({ DatabaseName: database, TableName: table, PartitionValueList: values, PartitionInput: input }));
      } catch (err) {
        throw wrap(err, where(table), `cannot update partition ${values.join('/')}`);
      }
    },
    async getPartition(table: string, values: string[]): Promise<Partition | undefined> {
      try {
        return (await glue.send(new GetPartitionCommand({ DatabaseName: database, TableName: table, PartitionValues: values }))).Partition;
      } catch (err) {
        if (notFound(err)) return undefined;
        throw wrap(err, where(table), `cannot read partition ${values.join('/')}`);
      }
    },
    async getPartitions(table: string): Promise<Partition[]> {
      const out: Partition[] = [];
      let token: string | undefined;
      try {
        do {
          const page = await glue.send(new GetPartitionsCommand({ DatabaseName: database, TableName: table, NextToken: token }));
          out.push(...(page.Partitions ?? []));
          token = page.NextToken;
        } while (token);
      } catch (err) {
        throw wrap(err, where(table), 'cannot list the partitions');
      }
      return out;
    },
  };
}

export type GlueCatalog = ReturnType<typeof glueCatalog>;
