// The aws-mode crawler runner reports this crawl, not the previous one (daemons/lib/catalog/glue-crawler.ts).
// Right after StartCrawler, Glue's GetCrawler can still answer READY with the previous crawl as LastCrawl;
// the twin (moto) moves to RUNNING at once and never shows that window. A loopback HTTP proxy in front of
// the twin shows it to the real SDK client: after StartCrawler it answers GetCrawler with the crawler as it
// was before the start (READY, the previous crawl; its status marked FAILED so taking it would show).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateCrawlerCommand, CreateDatabaseCommand, GetCrawlerCommand, StartCrawlerCommand } from '@aws-sdk/client-glue';
import test from 'ava';
import { createAwsClients, type AwsClients } from '../../daemons/lib/aws.js';
import { createGlueCrawlerRunner } from '../../daemons/lib/catalog/glue-crawler.js';
import { KafkalakeError } from '../../daemons/lib/errors.js';
import { createLogger } from '../../daemons/lib/log.js';
import { startTwin, type Twin, unique } from './crawl-helpers.js';

let twin: Twin;
let aws: AwsClients;
const log = createLogger({ daemon: 'crawler-test', level: 'warn', stream: process.stderr });

async function motoApi(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${twin.endpoint}/moto-api/${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  if (res.status >= 300) throw new Error(`moto-api ${path}: ${res.status}`);
}

/** After a StartCrawler, the next `stale` GetCrawler calls get the answer recorded before it, status FAILED. */
async function staleProxy(stale: number) {
  const to = new URL(twin.endpoint);
  const state = { stale, served: 0, getCrawler: 0, before: undefined as string | undefined, started: false };
  const server = http.createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (target.endsWith('.GetCrawler')) state.getCrawler++;
      if (target.endsWith('.GetCrawler') && state.started && state.stale > 0 && state.before) {
        state.stale--;
        state.served++;
        const body = JSON.parse(state.before) as { Crawler: { LastCrawl: { Status: string; ErrorMessage?: string } } };
        body.Crawler.LastCrawl.Status = 'FAILED';
        body.Crawler.LastCrawl.ErrorMessage = 'the previous crawl';
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
        return;
      }
      const up = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        const out: Buffer[] = [];
        r.on('data', (c: Buffer) => out.push(c));
        r.on('end', () => {
          const text = Buffer.concat(out).toString('utf8');
          if (target.endsWith('.GetCrawler') && !state.started && r.statusCode === 200) state.before = text;
          if (target.endsWith('.StartCrawler')) state.started = true;
          res.writeHead(r.statusCode ?? 502, r.headers);
          res.end(text);
        });
      });
      up.on('error', () => res.destroy());
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxied = createAwsClients(twin.config({ aws: { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } }));
  return Object.assign(state, {
    glue: proxied.glue,
    async close() {
      proxied.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** A crawler that crawled once already (its LastCrawl: COMPLETED), crawls ending at once from now on. */
async function crawledOnce(): Promise<string> {
  const name = unique('crawler');
  await aws.glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: name } }));
  await aws.glue.send(new CreateCrawlerCommand({ Name: name, Role: 'arn:aws:iam::123456789012:role/glue', DatabaseName: name, Targets: { S3Targets: [{ Path: 's3://kl-results/datalake/t/' }] } }));
  await motoApi('state-manager/set-transition', { model_name: 'glue::crawl', transition: { progression: 'immediate' } });
  await aws.glue.send(new StartCrawlerCommand({ Name: name }));
  const c = (await aws.glue.send(new GetCrawlerCommand({ Name: name }))).Crawler;
  if (c?.State !== 'READY' || String(c.LastCrawl?.Status) !== 'COMPLETED') throw new Error(`setup: crawler ${c?.State} ${c?.LastCrawl?.Status}`);
  await new Promise((r) => setTimeout(r, 1100)); // the next crawl's StartTime is a later second
  return name;
}

test.before(async () => {
  twin = await startTwin();
  aws = createAwsClients(twin.config());
});
test.after.always(async () => {
  aws?.destroy();
  await twin?.stop();
});

test.serial('a first poll that still sees READY with the previous crawl is not taken for this crawl', async (t) => {
  const name = await crawledOnce();
  const p = await staleProxy(2);
  try {
    await p.glue.send(new GetCrawlerCommand({ Name: name })); // what the proxy replays after the start
    const report = await createGlueCrawlerRunner({ glue: p.glue, name, pollIntervalMs: 10, timeoutMs: 30_000, log }).run();
    t.is(p.served, 2, 'the runner was shown the previous crawl twice');
    t.is(report.status, 'COMPLETED', 'this crawl’s status, not the previous one’s FAILED');
    t.true(report.polls >= 3, `polled ${report.polls} times`);
  } finally {
    await p.close();
  }
});

test.serial('a crawl never seen is bounded: one line at the timeout, the crawler asked to stop', async (t) => {
  const name = await crawledOnce();
  const p = await staleProxy(1_000_000);
  let clock = 0;
  try {
    const err = await t.throwsAsync(
      createGlueCrawlerRunner({
        glue: p.glue,
        name,
        pollIntervalMs: 1000,
        timeoutMs: 5000,
        log,
        now: () => clock,
        sleep: (ms) => {
          clock += ms;
          return Promise.resolve();
        },
      }).run(),
      { instanceOf: KafkalakeError },
    );
    t.regex(err?.message ?? '', new RegExp(`^crawler ${name}: the crawl started was not seen after 5 s \\(still READY, last crawl started \\d{4}-.+\\): asked it to stop$`));
    t.true(err?.retriable);
    t.true(p.served >= 5 && p.served <= 7, `${p.served} polls`);
  } finally {
    await p.close();
  }
});
