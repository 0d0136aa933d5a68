// Run the consumer in a worker thread with a bounded heap (consumer.maxHeapMb) and present it as a
// Service to runDaemon: done settles when the worker reports done or failed, close() asks it to flush,
// commit and leave, then waits for it to end. A worker that dies (out of memory) fails the service.
import { Worker } from 'node:worker_threads';
import type { LoadedConfig } from '../lib/config/index.js';
import { KafkalakeError } from '../lib/errors.js';
import { StoppedError } from '../lib/topic.js';
import type { Service } from '../lib/lifecycle.js';
import type { LogFormat } from '../lib/log.js';
import type { ConsumerStats } from './consumer.js';
import type { WorkerInput, WorkerMessage } from './worker.js';

export interface IsolateOptions {
  loaded: LoadedConfig & { logFormat?: LogFormat };
  daemon: string;
  once?: boolean;
  logToStderr?: boolean;
  /** the daemon is stopping before the worker said it started (waiting for its topic): end the start */
  signal?: AbortSignal;
}

export function startConsumerWorker(opts: IsolateOptions): Promise<Service & { stats(): ConsumerStats | undefined }> {
  const { config, secrets } = opts.loaded;
  const input: WorkerInput = { config, secrets, daemon: opts.daemon, once: opts.once ?? false, logToStderr: opts.logToStderr ?? false, logFormat: opts.loaded.logFormat ?? 'json' };
  const heap = config.consumer.maxHeapMb;
  const worker = new Worker(new URL('./worker.js', import.meta.url), {
    workerData: input,
    resourceLimits: { maxOldGenerationSizeMb: heap, maxYoungGenerationSizeMb: Math.max(8, Math.min(32, Math.floor(heap / 8))) },
  });
  let stats: ConsumerStats | undefined;
  let markClosed: () => void = () => undefined;
  const closedMsg = new Promise<void>((r) => (markClosed = r));
  let closeRequested = false;
  let settleDone: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const done = new Promise<void>((resolve, reject) => (settleDone = { resolve, reject }));
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  return new Promise((resolveStart, rejectStart) => {
    let started = false;
    const fail = (msg: string) => {
      const err = new KafkalakeError(msg, { where: 'consumer' });
      if (!started) rejectStart(err);
      else settleDone?.reject(err);
    };
    worker.on('error', (err: Error) => fail(`consumer worker died: ${err.message}`));
    opts.signal?.addEventListener(
      'abort',
      () => {
        if (started) return;
        // the worker leaves its wait and ends; nothing was staged or committed yet
        closeRequested = true;
        worker.postMessage({ kind: 'close' });
        void Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref()).then(() => worker.terminate())]).then(() => rejectStart(new StoppedError('starting the consumer')));
      },
      { once: true },
    );
    void exited.then((code) => {
      if (!closeRequested) fail(`consumer worker exited (code ${code}) before it was closed`);
    });
    worker.on('message', (m: WorkerMessage) => {
      switch (m.kind) {
        case 'started':
          started = true;
          resolveStart({
            done,
            stats: () => stats,
            close: async () => {
              closeRequested = true;
              worker.postMessage({ kind: 'close' });
              // closed and flushed, but a library handle may keep the thread alive: end it after a grace
              await Promise.race([exited, closedMsg.then(() => new Promise((r) => setTimeout(r, 2000).unref())).then(() => worker.terminate())]);
            },
          });
          break;
        case 'done':
          settleDone?.resolve();
          break;
        case 'failed':
          fail(m.error);
          break;
        case 'closed':
          stats = m.stats as ConsumerStats;
          markClosed();
          break;
      }
    });
  });
}
