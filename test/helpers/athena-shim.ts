// A small HTTP server in front of the AWS twin (moto's server) that adds the two Athena behaviours
// moto lacks, so that the aws-mode Athena runner can be tested through the real SDK. It is not a mock
// of the SDK client: the real @aws-sdk/client-athena (and S3, Glue clients, all pointed at the shim's
// endpoint) talk HTTP to the shim, and the shim forwards every request to moto unchanged (method,
// path, headers, body; moto's answer goes back unchanged), except for these, as the Athena API
// reference describes them (JSON 1.1 protocol, X-Amz-Target: AmazonAthena.<Operation>):
//  - GetQueryResults pages. Moto answers every call with all the rows queued for the query through
//    its /moto-api and ignores NextToken and MaxResults. The shim takes moto's full answer and returns
//    the page asked for: at most MaxResults rows (1..1000, default 1000; outside that range an
//    InvalidRequestException, as Athena answers an out-of-range parameter), an opaque NextToken when
//    rows are left (absent on the last page), ResultSetMetadata on every page. The header row of a
//    SELECT is the result's first row, so it comes on the first page only and counts against its
//    MaxResults, as in Athena. A NextToken the shim did not issue for that query is refused.
//  - FAILED queries. Moto never ends a query FAILED (only SUCCEEDED, or CANCELLED after a stop).
//    failNext() marks the query of the next StartQueryExecution: GetQueryExecution answers moto's
//    execution with Status.State RUNNING for the first `runningPolls` polls, then FAILED with
//    StateChangeReason, AthenaError (ErrorCategory 1 SYSTEM / 2 USER / 3 OTHER, ErrorType, Retryable,
//    ErrorMessage) and CompletionDateTime. GetQueryResults on it is refused with moto's own answer
//    for a query that did not succeed (InvalidRequestException "... Current state: FAILED").
// Every Athena call is recorded (target, request, what the shim answered) for the tests to assert on.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AthenaFailure {
  /** Athena's StateChangeReason, e.g. "line 1:8: mismatched input 'FORM'. Expecting: ..." */
  reason: string;
  /** AthenaError.ErrorCategory: 1 SYSTEM, 2 USER, 3 OTHER (default 2) */
  category?: 1 | 2 | 3;
  /** AthenaError.ErrorType (the Athena error catalog's number) */
  type?: number;
  retryable?: boolean;
  /** GetQueryExecution polls answered RUNNING before FAILED (default 2) */
  runningPolls?: number;
}

export interface AthenaCall {
  /** the operation, e.g. "GetQueryResults" */
  op: string;
  request: Record<string, unknown>;
  status: number;
  /** GetQueryResults: rows and NextToken of the page answered */
  rows?: number;
  nextToken?: string;
  /** GetQueryExecution: the state answered */
  state?: string;
}

export interface AthenaShim {
  endpoint: string;
  /** every Athena call, in order */
  calls: AthenaCall[];
  /** the query of the next StartQueryExecution ends FAILED with this reason */
  failNext(failure: AthenaFailure): void;
  /** ids of the queries failNext() applied to, in order */
  failed(): string[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

interface Failing extends AthenaFailure {
  polls: number;
}

const TARGET_PREFIX = 'AmazonAthena.';
const MAX_RESULTS = 1000;

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startAthenaShim(upstream: string): Promise<AthenaShim> {
  const target = new URL(upstream);
  const calls: AthenaCall[] = [];
  const failing = new Map<string, Failing>();
  const failedIds: string[] = [];
  let pending: AthenaFailure | undefined;
  /** NextToken → where the next page starts */
  const tokens = new Map<string, { id: string; offset: number }>();
  const agent = new http.Agent({ keepAlive: true });
  const upstreamRequest = (req: http.IncomingMessage, onAnswer: (res: http.IncomingMessage) => void) =>
    http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent }, onAnswer);

  /** Send a request to moto; resolves with its status, headers and whole body. */
  function forward(req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const up = upstreamRequest(req, (res) => {
        readBody(res).then((b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }), reject);
      });
      up.on('error', reject);
      up.end(body);
    });
  }

  /** Pass a request through untouched, streaming both ways (S3 bodies can be large). */
  function pipeThrough(req: http.IncomingMessage, res: http.ServerResponse): void {
    const up = upstreamRequest(req, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.pipe(res);
    });
    up.on('error', (err) => {
      res.writeHead(502).end(String(err));
    });
    req.pipe(up);
  }

  /** Answer with moto's status, headers and body as they came (the body is whole, so its length is known). */
  function replay(res: http.ServerResponse, answer: { status: number; headers: http.IncomingHttpHeaders; body: Buffer }): void {
    const headers = { ...answer.headers, 'content-length': String(answer.body.length) };
    delete headers['transfer-encoding'];
    delete headers.connection;
    res.writeHead(answer.status, headers).end(answer.body);
  }

  function sendJson(res: http.ServerResponse, status: number, body: Json): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomBytes(16).toString('hex') });
    res.end(text);
  }

  function invalidRequest(res: http.ServerResponse, message: string): void {
    sendJson(res, 400, { __type: 'InvalidRequestException', Message: message });
  }

  async function athena(op: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const request = (raw.length ? JSON.parse(raw.toString('utf8')) : {}) as Json;
    const call: AthenaCall = { op, request, status: 0 };
    calls.push(call);
    const id = typeof request.QueryExecutionId === 'string' ? request.QueryExecutionId : '';

    if (op === 'GetQueryResults') {
      const max = request.MaxResults === undefined ? MAX_RESULTS : Number(request.MaxResults);
      if (!Number.isInteger(max) || max < 1 || max > MAX_RESULTS) {
        call.status = 400;
        return invalidRequest(res, `MaxResults must be between 1 and ${MAX_RESULTS}, got ${String(request.MaxResults)}`);
      }
      if (failing.has(id)) {
        call.status = 400;
        return invalidRequest(res, 'Query has not yet finished. Current state: FAILED');
      }
      let offset = 0;
      if (request.NextToken !== undefined) {
        const at = typeof request.NextToken === 'string' ? tokens.get(request.NextToken) : undefined;
        if (!at || at.id !== id) {
          call.status = 400;
          return invalidRequest(res, 'The NextToken is not valid for this query execution');
        }
        offset = at.offset;
      }
      const answer = await forward(req, raw);
      call.status = answer.status;
      if (answer.status !== 200) return replay(res, answer);
      const full = JSON.parse(answer.body.toString('utf8')) as { ResultSet?: { Rows?: unknown[]; ResultSetMetadata?: unknown } };
      const all = full.ResultSet?.Rows ?? [];
      const rows = all.slice(offset, offset + max);
      const page: Json = { ResultSet: { Rows: rows, ResultSetMetadata: full.ResultSet?.ResultSetMetadata ?? { ColumnInfo: [] } } };
      if (offset + max < all.length) {
        const token = randomBytes(24).toString('base64url');
        tokens.set(token, { id, offset: offset + max });
        page.NextToken = token;
        call.nextToken = token;
      }
      call.rows = rows.length;
      return sendJson(res, 200, page);
    }

    const answer = await forward(req, raw);
    call.status = answer.status;
    if (answer.status === 200 && op === 'StartQueryExecution' && pending) {
      const started = JSON.parse(answer.body.toString('utf8')) as { QueryExecutionId?: string };
      if (started.QueryExecutionId) {
        failing.set(started.QueryExecutionId, { ...pending, polls: 0 });
        failedIds.push(started.QueryExecutionId);
        pending = undefined;
      }
    }
    const f = failing.get(id);
    if (answer.status === 200 && op === 'GetQueryExecution' && f) {
      const out = JSON.parse(answer.body.toString('utf8')) as { QueryExecution: { Status?: Json } };
      const status: Json = { ...out.QueryExecution.Status };
      f.polls++;
      if (f.polls <= (f.runningPolls ?? 2)) {
        status.State = 'RUNNING';
        delete status.CompletionDateTime;
      } else {
        status.State = 'FAILED';
        status.StateChangeReason = f.reason;
        status.CompletionDateTime = Date.now() / 1000;
        status.AthenaError = { ErrorCategory: f.category ?? 2, ...(f.type === undefined ? {} : { ErrorType: f.type }), Retryable: f.retryable ?? false, ErrorMessage: f.reason };
      }
      out.QueryExecution.Status = status;
      call.state = String(status.State);
      return sendJson(res, 200, out);
    }
    if (op === 'GetQueryExecution' && answer.status === 200) {
      call.state = String((JSON.parse(answer.body.toString('utf8')) as { QueryExecution?: { Status?: { State?: string } } }).QueryExecution?.Status?.State);
    }
    replay(res, answer);
  }

  const server = http.createServer((req, res) => {
    const header = req.headers['x-amz-target'];
    const op = typeof header === 'string' && header.startsWith(TARGET_PREFIX) ? header.slice(TARGET_PREFIX.length) : undefined;
    if (!op) return pipeThrough(req, res);
    athena(op, req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { __type: 'InternalServerException', Message: `athena shim: ${String(err)}` });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    failNext(failure) {
      pending = failure;
    },
    failed: () => [...failedIds],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
