// `kafkalake console`'s HTTP side: one read-only page and its JSON API, on node's own http module (six
// GET routes and three static files need no framework; nothing to keep up to date beside Node). The page
// (static/) draws with Chart.js, served from node_modules, so it works with no network.
//   GET /                      the page            GET /api/status   what `kafkalake status --json` prints
//   GET /assets/<file>         the page's files    GET /api/series[?partitions=0,1,…]  the last hour of metrics
//   GET /api/jobs              the job history     GET /api/dlq      the dead letters; /api/dlq/show?key=K one object's
//   GET /api/reports           the saved reports   GET /api/reports/<name>[?date=YYYY-MM-DD] one report's file
// Anything else is 404, any method but GET and HEAD 405. A source that fails answers 502 with its one-line
// error, which the page shows in place of that part; no response carries a secret (the config is not sent).
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { oneLine } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { resolveFromRoot } from '../lib/paths.js';
import type { ConsoleData } from './data.js';

const STATIC_DIR = resolveFromRoot('daemons/console/static');
const chartJs = () => path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

const ASSETS: Record<string, { file: () => string; type: string }> = {
  'console.js': { file: () => path.join(STATIC_DIR, 'console.js'), type: 'text/javascript; charset=utf-8' },
  'console.css': { file: () => path.join(STATIC_DIR, 'console.css'), type: 'text/css; charset=utf-8' },
  'chart.umd.min.js': { file: chartJs, type: 'text/javascript; charset=utf-8' },
};

const HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  // the page's own files only: no CDN, no inline script, nothing framed
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
};

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { ...HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

const json = (res: ServerResponse, status: number, value: unknown) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));

class BadRequest extends Error {}

export interface ConsoleServerOptions {
  data: ConsoleData;
  log: Logger;
  host: string;
  port: number;
}

export async function startConsoleServer(o: ConsoleServerOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const api = async (p: string, q: URLSearchParams): Promise<unknown> => {
    if (p === '/api/status') return o.data.status();
    if (p === '/api/series') {
      const list = q.get('partitions');
      if (list !== null && !/^\d{1,5}(,\d{1,5}){0,999}$/.test(list)) throw new BadRequest('partitions must be a list of partition numbers: 0,1,2');
      return o.data.series(list === null ? undefined : list.split(',').map(Number));
    }
    if (p === '/api/jobs') return o.data.jobs();
    if (p === '/api/dlq') return o.data.dlq();
    if (p === '/api/dlq/show') return o.data.dlqShow(q.get('key') ?? '');
    if (p === '/api/reports') return o.data.reports();
    const m = /^\/api\/reports\/([A-Za-z0-9_-]+)$/.exec(p);
    if (m) return o.data.report(m[1]!, q.get('date') ?? undefined);
    return undefined;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'read-only: GET only\n');
    const url = new URL(req.url ?? '/', 'http://console');
    if (url.pathname === '/' || url.pathname === '/index.html') return send(res, 200, 'text/html; charset=utf-8', await readFile(path.join(STATIC_DIR, 'index.html')));
    const asset = url.pathname.startsWith('/assets/') ? ASSETS[url.pathname.slice('/assets/'.length)] : undefined;
    if (asset) return send(res, 200, asset.type, await readFile(asset.file()));
    if (url.pathname.startsWith('/api/')) {
      try {
        const value = await api(url.pathname, url.searchParams);
        if (value === undefined) return json(res, 404, { error: `no such API: ${url.pathname}` });
        return json(res, 200, value);
      } catch (err) {
        if (err instanceof BadRequest) return json(res, 400, { error: err.message });
        o.log.warn('console: a source failed', { path: url.pathname, err: oneLine(err) });
        return json(res, 502, { error: oneLine(err) });
      }
    }
    return send(res, 404, 'text/plain; charset=utf-8', `not found: ${url.pathname}\n`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: oneLine(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    server,
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
