import { PassThrough } from 'node:stream';
import test from 'ava';
import { createLogger, flushLogger } from './log.js';

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
