// How a daemon lives and dies. Only main.ts calls runDaemon(): it maps SIGTERM/SIGINT to close() bounded
// by a deadline then exit 0, and any crash to one logged line and exit 1, so systemd's
// Restart=on-failure takes over. Libraries expose an idempotent close() built with closeAll().
import { oneLine } from './errors.js';
import { flushLogger, type Logger } from './log.js';

export interface Service {
  /** resolves when the service has stopped by itself (a finite job, or a fatal error: rejects) */
  done: Promise<void>;
  /** stop taking work, flush, commit, close clients; idempotent */
  close(): Promise<void>;
}

/** Run every cleanup step even when one fails; the first failure is rethrown after all have run. */
export async function closeAll(steps: Array<[name: string, step: () => unknown]>, log?: Logger): Promise<void> {
  const failures: unknown[] = [];
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (err) {
      log?.error('close step failed', { step: name, error: oneLine(err) });
      failures.push(err);
    }
  }
  if (failures.length === 1) throw failures[0] instanceof Error ? failures[0] : new Error(oneLine(failures[0]));
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} close steps failed: ${failures.map(oneLine).join('; ')}`);
}

/** Make a close() that runs once, however often it is called. */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}

export interface RunOptions {
  log: Logger;
  shutdownTimeoutMs: number;
  /** test seam */
  exit?: (code: number) => void;
}

/**
 * Start a service and own the process: signals, deadline, exit code. A signal while start() is still
 * running (the consumer waiting for its topic, say) aborts the signal start() was given; a start that
 * then gives up ends the process with 0, as a stop does, and one that does not within
 * shutdownTimeoutMs ends it with 1.
 */
export async function runDaemon(start: (signal: AbortSignal) => Promise<Service>, opts: RunOptions): Promise<void> {
  const { log } = opts;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let exiting = false;
  // hold the event loop until the exit code is decided, whatever the service keeps open
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const finish = async (code: number): Promise<void> => {
    if (exiting) return;
    exiting = true;
    clearInterval(keepAlive);
    await flushLogger(log);
    exit(code);
  };

  process.on('uncaughtException', (err) => {
    log.error('crashed', { error: oneLine(err) });
    void finish(1);
  });
  process.on('unhandledRejection', (err) => {
    log.error('crashed', { error: oneLine(err) });
    void finish(1);
  });

  let service: Service | undefined;
  let stopRequested: string | undefined;
  let stopping = false;
  const starting = new AbortController();
  const stop = (signal: string) => {
    if (stopping) {
      log.info('already stopping', { signal });
      return;
    }
    if (!service) {
      // still starting: tell start() to give up, and stop as soon as it returns
      if (stopRequested) return;
      stopRequested = signal;
      log.info('stopping while starting', { signal, timeoutMs: opts.shutdownTimeoutMs });
      setTimeout(() => {
        if (service) return;
        log.error('start did not give up in time, exiting anyway', { timeoutMs: opts.shutdownTimeoutMs });
        void finish(1);
      }, opts.shutdownTimeoutMs).unref();
      starting.abort();
      return;
    }
    stopping = true;
    const svc = service;
    log.info('stopping', { signal, timeoutMs: opts.shutdownTimeoutMs });
    const deadline = setTimeout(() => {
      log.error('graceful stop took too long, exiting anyway', { timeoutMs: opts.shutdownTimeoutMs });
      void finish(1);
    }, opts.shutdownTimeoutMs);
    svc.close().then(
      () => {
        clearTimeout(deadline);
        log.info('stopped', { signal });
        void finish(0);
      },
      (err: unknown) => {
        clearTimeout(deadline);
        log.error('stop failed', { error: oneLine(err) });
        void finish(1);
      },
    );
  };
  // `on`, not `once`: a second signal while stopping must not fall through to the default (kill)
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    service = await start(starting.signal);
  } catch (err) {
    if (stopRequested) {
      log.info('stopped before it started', { signal: stopRequested, reason: oneLine(err) });
      await finish(0);
      return;
    }
    log.error('failed to start', { error: oneLine(err) });
    await finish(1);
    return;
  }
  if (stopRequested) stop(stopRequested);

  try {
    await service.done;
    if (!stopping) {
      await service.close();
      log.info('finished');
      await finish(0);
    }
  } catch (err) {
    if (stopping) return;
    log.error('failed', { error: oneLine(err) });
    await service.close().catch(() => undefined);
    await finish(1);
  }
}
