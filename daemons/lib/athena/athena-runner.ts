// aws mode: one query through Athena. StartQueryExecution in the workgroup (database as the
// execution context, output under the configured prefix), GetQueryExecution polled with a doubling
// interval until SUCCEEDED / FAILED / CANCELLED (a query past the timeout is stopped), then every
// page of GetQueryResults. FAILED says Athena's reason, which carries the line:column of a syntax error.
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type Row,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { KafkalakeError, oneLine, wrap } from '../errors.js';
import type { Logger } from '../log.js';
import type { QueryResult } from './result.js';

export interface AthenaDeps {
  athena: AthenaClient;
  workgroup: string;
  database: string;
  /** s3://bucket/athena-results/ */
  outputLocation: string;
  pollMinMs: number;
  pollMaxMs: number;
  timeoutMs: number;
  log: Logger;
  /** GetQueryResults page size (Athena's maximum is 1000) */
  pageSize?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export class AthenaQueryError extends KafkalakeError {
  constructor(message: string, where: string, cause?: unknown) {
    super(message, { where, cause, explainsCause: cause !== undefined });
    this.name = 'AthenaQueryError';
  }
}

const cell = (r: Row, i: number) => r.Data?.[i]?.VarCharValue ?? null;

export function createAthenaRunner(deps: AthenaDeps) {
  const { athena, log } = deps;
  const sleep = deps.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;

  async function start(sql: string, where: string): Promise<string> {
    try {
      const out = await athena.send(
        new StartQueryExecutionCommand({
          QueryString: sql,
          WorkGroup: deps.workgroup,
          QueryExecutionContext: { Database: deps.database, Catalog: 'AwsDataCatalog' },
          ResultConfiguration: { OutputLocation: deps.outputLocation },
        }),
      );
      if (!out.QueryExecutionId) throw new Error('no QueryExecutionId in the answer');
      return out.QueryExecutionId;
    } catch (err) {
      throw new AthenaQueryError(`Athena refused the query in workgroup ${deps.workgroup}: ${oneLine(err)}`, where, err);
    }
  }

  /** Poll until the query ends; returns its output location. */
  async function wait(id: string, where: string): Promise<{ output: string; polls: number }> {
    const t0 = now();
    let interval = deps.pollMinMs;
    for (let polls = 1; ; polls++) {
      await sleep(interval);
      interval = Math.min(interval * 2, deps.pollMaxMs);
      let qe;
      try {
        qe = (await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution;
      } catch (err) {
        throw wrap(err, where, `cannot read the state of query ${id}`);
      }
      const state = qe?.Status?.State ?? 'UNKNOWN';
      log.debug('athena query state', { id, state, polls });
      if (state === 'SUCCEEDED') return { output: qe?.ResultConfiguration?.OutputLocation ?? '', polls };
      if (state === 'FAILED' || state === 'CANCELLED') {
        const reason = qe?.Status?.StateChangeReason ?? qe?.Status?.AthenaError?.ErrorMessage ?? 'no reason given';
        const type = qe?.Status?.AthenaError?.ErrorCategory === 1 ? 'SYSTEM' : qe?.Status?.AthenaError?.ErrorCategory === 2 ? 'USER' : undefined;
        throw new AthenaQueryError(`query ${id} ${state}${type ? ` (${type} error)` : ''}: ${reason}`, where);
      }
      if (now() - t0 > deps.timeoutMs) {
        await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch((e: unknown) => log.warn('cannot stop the query', { id, err: oneLine(e) }));
        throw new AthenaQueryError(`query ${id} still ${state} after ${Math.round(deps.timeoutMs / 1000)} s: stopped it`, where);
      }
    }
  }

  async function results(id: string, where: string): Promise<{ columns: QueryResult['columns']; rows: QueryResult['rows']; pages: number }> {
    let token: string | undefined;
    let columns: QueryResult['columns'] = [];
    const rows: QueryResult['rows'] = [];
    let pages = 0;
    do {
      let page;
      try {
        page = await athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token, MaxResults: deps.pageSize ?? 1000 }));
      } catch (err) {
        throw wrap(err, where, `cannot read the results of query ${id}`);
      }
      pages++;
      const meta = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      if (pages === 1) columns = meta.map((c) => ({ name: c.Name ?? '', type: c.Type ?? 'varchar' }));
      let list = page.ResultSet?.Rows ?? [];
      // a SELECT's first row (first page only) is the header
      if (pages === 1 && list[0] && columns.length && columns.every((c, i) => cell(list[0]!, i) === c.name)) list = list.slice(1);
      for (const r of list) rows.push(columns.map((_, i) => cell(r, i)));
      token = page.NextToken;
    } while (token);
    return { columns, rows, pages };
  }

  async function query(sql: string, where = 'query'): Promise<QueryResult & { polls: number; pages: number }> {
    const t0 = now();
    const id = await start(sql, where);
    const { output, polls } = await wait(id, where);
    const { columns, rows, pages } = await results(id, where);
    return { queryId: id, engine: 'athena', columns, rows, outputLocation: output, durationMs: now() - t0, polls, pages };
  }

  return { query };
}
