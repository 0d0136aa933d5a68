import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import test from 'ava';
import { createLogger, flushLogger, resolveLogFormat } from './log.js';

async function capture(secrets: string[], write: (log: ReturnType<typeof createLogger>) => void): Promise<Array<Record<string, unknown>>> {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (d: Buffer) => chunks.push(d.toString()));
  const log = createLogger({ daemon: 'producer', level: 'debug', stream, secrets });
  write(log);
  await flushLogger(log);
  return chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('every line is JSON with the daemon, level, time and message; children add their component', async (t) => {
  const lines = await capture([], (log) => {
    log.info('started', { topic: 't' });
    log.child({ component: 'csv' }).warn('bad row', { line: 7 });
    log.debug('detail');
  });
  t.is(lines.length, 3);
  t.like(lines[0], { daemon: 'producer', level: 'info', message: 'started', topic: 't' });
  t.like(lines[1], { daemon: 'producer', component: 'csv', level: 'warn', line: 7 });
  t.regex(String(lines[0]?.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('known secret values and secret-looking keys are masked anywhere in a line', async (t) => {
  const lines = await capture(['s3cr3t-pass', 'AKIAEXAMPLEKEY'], (log) => {
    log.error('auth failed for s3cr3t-pass', { password: 'other', nested: { accessKeyId: 'AKIAEXAMPLEKEY', note: 'key AKIAEXAMPLEKEY used' }, list: ['s3cr3t-pass'] });
  });
  const text = JSON.stringify(lines);
  t.false(text.includes('s3cr3t-pass'));
  t.false(text.includes('AKIAEXAMPLEKEY'));
  t.false(text.includes('other'));
  t.like(lines[0], { message: 'auth failed for ***', password: '***' });
});

test('lines below the level are not written', async (t) => {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (d: Buffer) => chunks.push(d.toString()));
  const log = createLogger({ daemon: 'x', level: 'warn', stream });
  log.info('hidden');
  log.warn('shown');
  await flushLogger(log);
  t.deepEqual(chunks.join('').trim().split('\n').map((l) => (JSON.parse(l) as { message: string }).message), ['shown']);
});

test('pretty: one short line per entry with time, daemon, level, message and the fields, secrets still masked', async (t) => {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (d: Buffer) => chunks.push(d.toString()));
  const log = createLogger({ daemon: 'consumer', level: 'info', stream, secrets: ['s3cr3t-pass'], format: 'pretty' });
  log.child({ component: 'consumer', topic: 't1' }).info('partition assigned', { partition: 3, stagedThrough: 120_400, resumeAt: 120_401, worker: 10_059, rows: 120_400 });
  log.warn('auth failed for s3cr3t-pass', { password: 'other', reason: 'two words' });
  await flushLogger(log);
  const lines = chunks.join('').trim().split('\n');
  t.is(lines.length, 2);
  t.regex(lines[0]!, /^\d\d:\d\d:\d\d consumer {2}info {2}partition assigned {2}topic=t1 partition=3 stagedThrough=120400 resumeAt=120401 worker=10059 rows=120,400$/);
  t.regex(lines[1]!, /^\d\d:\d\d:\d\d consumer {2}warn {2}auth failed for \*\*\* {2}password=\*\*\* reason="two words"$/);
  t.false(chunks.join('').includes('s3cr3t-pass'));
});

test('pretty on the stream, JSON in the file the CloudWatch agent reads', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kl-log-'));
  const file = path.join(dir, 'd.log');
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (d: Buffer) => chunks.push(d.toString()));
  const log = createLogger({ daemon: 'scheduler', stream, file, format: 'pretty' });
  log.info('job finished', { job: 'etl' });
  await flushLogger(log);
  t.regex(chunks.join(''), /scheduler info {2}job finished {2}job=etl/);
  t.like(JSON.parse(readFileSync(file, 'utf8').trim()) as object, { daemon: 'scheduler', level: 'info', message: 'job finished', job: 'etl' });
  rmSync(dir, { recursive: true, force: true });
});

test('log.format auto is pretty on a terminal only', (t) => {
  t.is(resolveLogFormat('auto', { isTTY: true }), 'pretty');
  t.is(resolveLogFormat('auto', {}), 'json');
  t.is(resolveLogFormat('json', { isTTY: true }), 'json');
  t.is(resolveLogFormat('pretty', {}), 'pretty');
});
