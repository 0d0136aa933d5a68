// The consumer service inside a worker thread, so its heap is bounded by consumer.maxHeapMb
// (worker resourceLimits) whatever node was started with: the process RSS then stays bounded.
// The main thread (isolate.ts) owns signals and exit codes; this side only starts, reports and closes.
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../lib/config/index.js';
import { oneLine } from '../lib/errors.js';
import { createLogger, flushLogger, type LogFormat } from '../lib/log.js';
import { startConsumerDaemon } from './main.js';

export interface WorkerInput {
  config: Config;
  secrets: string[];
  daemon: string;
  once: boolean;
  logToStderr: boolean;
  /** decided by the main thread, which knows whether its stdout is a terminal */
  logFormat: LogFormat;
}

export type WorkerMessage = { kind: 'started' } | { kind: 'done' } | { kind: 'failed'; error: string } | { kind: 'closed'; stats: unknown };

const input = workerData as WorkerInput;
const port = parentPort;
const log = createLogger({
  daemon: input.daemon,
  // a CLI command keeps stderr for warnings, as context() does
  level: input.logToStderr && input.config.log.level === 'info' ? 'warn' : input.config.log.level,
  file: input.config.log.file,
  secrets: input.secrets,
  format: input.logFormat,
  ...(input.logToStderr ? { stream: process.stderr } : {}),
});
const send = (m: WorkerMessage) => port?.postMessage(m);

// a close before the service started (it waits for its topic) aborts the start
const starting = new AbortController();
let closeService: (() => void) | undefined;
port?.on('message', (m: { kind: string }) => {
  if (m.kind !== 'close') return;
  if (closeService) closeService();
  else starting.abort();
});

try {
  const svc = await startConsumerDaemon({ config: input.config, log, once: input.once, signal: starting.signal });
  send({ kind: 'started' });
  closeService = () => {
    svc.close().then(
      async () => {
        send({ kind: 'closed', stats: svc.stats() });
        await flushLogger(log);
        port?.close();
      },
      async (err: unknown) => {
        send({ kind: 'failed', error: oneLine(err) });
        await flushLogger(log);
        port?.close();
      },
    );
  };
  if (starting.signal.aborted) closeService();
  svc.done.then(
    () => send({ kind: 'done' }),
    (err: unknown) => send({ kind: 'failed', error: oneLine(err) }),
  );
} catch (err) {
  send({ kind: 'failed', error: oneLine(err) });
  await flushLogger(log);
  port?.close();
}
