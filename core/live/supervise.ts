/**
 * The supervised loop every live watcher runs (a flow's trigger watch, a set's watcher, a logical
 * flow's stream): connect, catch up, run until the connection is lost, back off with jitter and a
 * cap, connect again; report each state; stop promptly on stop() or the caller's AbortSignal.
 *
 * A cycle is the caller's code for one connection's life. It gets a `SupervisedCycle`:
 * - `signal` is aborted on stop() AND as soon as the cycle calls `lost(reason)` (the listener's
 *   heartbeat or error handler, a target connection's error): a catch-up in flight that takes it is
 *   cancelled within one heartbeat, not when it ends, and starts over on the next connection;
 * - `catchUp(fn)` reports 'catching-up', runs fn(signal) and yields undefined when the connection
 *   was lost or the watch stopped meanwhile (whatever fn did: its work is redone next time);
 * - `live()` reports 'live' and resets the backoff (a connection that made it to live starts the
 *   next backoff from the first attempt);
 * - `wait(ms)` sleeps until `wake()`, a loss, a stop, or ms (`sleep(ms)` also after a stop).
 *
 * A cycle ends by returning (the supervisor then reconnects unless stopping: the reason is the one
 * given to `lost`) or by throwing: fatal errors (the flow, the table or the privileges need a person;
 * by default the input error codes, and LOCKED on the very first attempt: another watcher has the
 * flow) end the watch with 'failed'; anything else is a reason to reconnect. An error thrown after
 * the cycle reported a loss counts as that loss.
 */
import type { ListenerStatus } from '../api/model';
import { INPUT_ERROR_CODES, type TableSyncError, toTableSyncError } from '../errors';
import { backoffDelay, type BackoffOptions } from './backoff';
import { Wakeup } from './wakeup';

export type StatusExtra = Partial<Omit<ListenerStatus, 'time' | 'flow' | 'channel' | 'state'>>;

export interface SupervisedCycle {
  /** Aborted on stop() and when the cycle reported its connection lost. */
  readonly signal: AbortSignal;
  /** Neither stopping nor lost. */
  readonly running: boolean;
  readonly stopping: boolean;
  /** The first reason given to `lost`, if any. */
  readonly lostReason: string | undefined;
  /** The connection is gone: abort `signal`, wake `wait`; the first reason is kept. */
  lost(reason: string): void;
  /** Report a state (use `catchUp` and `live` for those two). */
  status(state: ListenerStatus['state'], extra?: StatusExtra): void;
  /** 'catching-up', then fn(signal); undefined when lost or stopped before or while it ran. */
  catchUp<T>(fn: (signal: AbortSignal) => Promise<T>, extra?: StatusExtra): Promise<T | undefined>;
  /** 'live'; the next reconnect starts its backoff over. */
  live(extra?: StatusExtra): void;
  /** Until wake(), a loss, stop(), or `ms`; at once when already lost or stopping. */
  wait(ms?: number): Promise<void>;
  /** Until wake() or `ms`, also after a loss or stop (a cycle winding down: e.g. a final confirmation). */
  sleep(ms: number): Promise<void>;
  wake(): void;
}

export interface SuperviseOptions {
  /** One connection's life (see the module comment). */
  cycle(c: SupervisedCycle): Promise<void>;
  /** Where states go; the caller adds time, flow and channel. Exceptions of it are rethrown asynchronously, never taken as a failure. */
  status(state: ListenerStatus['state'], extra: StatusExtra): void;
  backoff?: BackoffOptions;
  signal?: AbortSignal;
  /** Errors that end the watch instead of a reconnect. `attempt` is 0 for the first connection. */
  fatal?(err: TableSyncError, attempt: number): boolean;
  /** Extra fields of each 'reconnecting' status (e.g. the staleness). */
  reconnecting?(): StatusExtra;
  /** For tests: the jitter source of the backoff. */
  random?: () => number;
}

export interface Supervisor {
  /** Stop after the work in flight (the cycle's signal is aborted); resolves when stopped. */
  stop(): Promise<void>;
  /** Resolves when stopped; rejects with the fatal error when the watch failed for good. */
  done: Promise<void>;
  /** Aborted by stop(). */
  readonly stopSignal: AbortSignal;
}

export const defaultFatal = (err: TableSyncError, attempt: number): boolean =>
  INPUT_ERROR_CODES.has(err.code) || (err.code === 'LOCKED' && attempt === 0);

/** Call a subscriber; its exception must not look like a failed connection (and cause a reconnect). */
export function deliverSafely<T>(fn: ((x: T) => void) | undefined, x: T): void {
  try {
    fn?.(x);
  } catch (e) {
    queueMicrotask(() => { throw e; });
  }
}

/** Source time → target commit in ms with one decimal; null when the source time is unknown. */
export function latencyMs(since: number | undefined, at: number): number | null {
  return since === undefined ? null : Math.max(0, Math.round((at - since) * 10) / 10);
}

export function supervise(opts: SuperviseOptions): Supervisor {
  const wakeup = new Wakeup();
  const stopController = new AbortController();
  const fatal = opts.fatal ?? defaultFatal;
  const status = (state: ListenerStatus['state'], extra: StatusExtra = {}) => {
    try {
      opts.status(state, extra);
    } catch (e) {
      queueMicrotask(() => { throw e; });
    }
  };
  const stopping = () => stopController.signal.aborted;

  const run = async (): Promise<void> => {
    let attempt = 0;
    while (!stopping()) {
      status('connecting', attempt === 0 ? {} : { attempt });
      const lostController = new AbortController();
      let lostReason: string | undefined;
      let reachedLive = false;
      const c: SupervisedCycle = {
        signal: AbortSignal.any([stopController.signal, lostController.signal]),
        get running() { return !stopping() && lostReason === undefined; },
        get stopping() { return stopping(); },
        get lostReason() { return lostReason; },
        lost: (reason) => {
          lostReason ??= reason;
          lostController.abort();
          wakeup.wake();
        },
        status,
        catchUp: async (fn, extra) => {
          if (!c.running) return undefined;
          status('catching-up', extra);
          let r: Awaited<ReturnType<typeof fn>>;
          try {
            r = await fn(c.signal);
          } catch (e) {
            if (!c.running) return undefined;
            throw e;
          }
          return c.running ? r : undefined;
        },
        live: (extra) => {
          reachedLive = true;
          status('live', extra);
        },
        wait: (ms) => (c.running ? wakeup.wait(ms) : Promise.resolve()),
        sleep: (ms) => wakeup.wait(ms),
        wake: () => wakeup.wake(),
      };
      let failure: string;
      try {
        await opts.cycle(c);
        if (stopping()) break;
        failure = lostReason ?? 'the connection ended';
      } catch (e) {
        if (stopping()) break;
        if (lostReason !== undefined) {
          failure = lostReason;
        } else {
          const err = toTableSyncError(e);
          if (fatal(err, attempt)) {
            status('failed', { reason: err.message });
            throw err;
          }
          failure = err.message;
        }
      }
      if (stopping()) break;
      attempt = reachedLive ? 1 : attempt + 1;
      status('reconnecting', { attempt, reason: failure, ...opts.reconnecting?.() });
      await wakeup.wait(backoffDelay(attempt, opts.backoff, opts.random));
    }
  };

  const done = run().then(
    () => { status('stopped'); },
    (e: unknown) => { throw toTableSyncError(e); },
  );
  // Mark the rejection handled here: callers that only ever call stop() must not crash the process.
  done.catch(() => {});
  const stop = async () => {
    stopController.abort();
    wakeup.wake();
    await done.catch(() => {});
  };
  opts.signal?.addEventListener('abort', () => { void stop(); }, { once: true });
  if (opts.signal?.aborted) void stop();
  return { stop, done, stopSignal: stopController.signal };
}
