/**
 * The live loop of one flow (DESIGN §3 Live). Each cycle: connect a dedicated listener and LISTEN,
 * make sure the capture trigger is in place, run the incremental scan (catch-up), then apply the
 * notified keys in small batches until the connection is lost or the watch is stopped.
 *
 * Zero loss rests on the order: LISTEN commits before the catch-up's snapshot is taken, so a change
 * is either in that snapshot or notified afterwards (notifications that arrive during the catch-up
 * wait in the batcher; applying them again is harmless, they are re-read). Any failure, of the
 * listener or of applying a batch (the source or target went away), starts a new cycle after a
 * backoff, so the catch-up covers whatever the failed batch did not apply.
 */
import type pg from 'pg';
import type { CatchUpInfo, Cell, ChangeEvent, ListenerStatus } from '../api/model';
import { INPUT_ERROR_CODES, type TableSyncError, toTableSyncError } from '../errors';
import { backoffDelay, type BackoffOptions } from './backoff';
import { Batcher, type Batch } from './batcher';
import { ensureCapture, partitionSignature } from './capture';
import type { KeyOutcome } from '../target';
import type { CaptureTable } from './capture-sql';
import type { CaptureNames } from './channel';
import { openListener, type Listener, type ListenerOptions } from './listener';
import { parseCaptureMessage } from './payload';
import { Wakeup } from './wakeup';

export type { KeyOutcome };

/** The target side of live apply (core/target's syncKeys and catchUp, bound to a flow). */
export interface Applier {
  /** Re-read `keys` through the filter and apply them in ONE target transaction; `outcomes[i]` is for `keys[i]`. */
  syncKeys(keys: Cell[][]): Promise<{ outcomes: KeyOutcome[]; committedAt: number }>;
  /**
   * The catch-up (core/target's catchUpOn: the ordinal window, or the full incremental scan);
   * returns the number of rows it changed. Aborted by `signal` on stop and when the listener is lost.
   */
  catchUp(signal: AbortSignal): Promise<{ changed: number; committedAt: number; info?: CatchUpInfo }>;
}

/**
 * Wall-clock now in epoch milliseconds with sub-millisecond resolution (Date.now() has whole ms,
 * too coarse for latencies of a few ms). Compared with the trigger's clock_timestamp(): source and
 * target clocks are assumed to agree (they are one server in tests and benchmarks; across machines
 * NTP skew adds to or hides latency, and a negative difference is shown as 0).
 */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** What one connection cycle works with: the source table's key as resolved now, and the applier. */
export interface LiveSession {
  table: CaptureTable;
  applier: Applier;
  /** Calls `onLost` when the session's target connection (the one holding the flow lock) dies. */
  watchLost?(onLost: (reason: string) => void): void;
}

export interface LiveRuntime {
  flowName: string;
  sourceUrl: string;
  sourcePool: pg.Pool;
  names: CaptureNames;
  /**
   * Run one connection cycle while holding the flow's lock. Entered again on every reconnect: the
   * lock lives on a target connection, and when the target went away that connection (and the lock
   * with it) is gone too; the source is resolved again, in case its table changed meanwhile.
   */
  session<T>(fn: (s: LiveSession) => Promise<T>): Promise<T>;
}

export interface WatchOptions {
  onEvent?: (e: ChangeEvent) => void;
  onStatus?: (s: ListenerStatus) => void;
  signal?: AbortSignal;
  /** How long the first key of a batch may wait for company (ms). */
  batchDelayMs?: number;
  /** A batch is applied as soon as it holds this many keys. */
  batchMaxKeys?: number;
  listener?: ListenerOptions;
  backoff?: BackoffOptions;
  /** While live, a status line with the target's staleness (and slot lag) this often, when there is something to say (ms). */
  lagStatusMs?: number;
  /**
   * How often a partitioned source's partitions are re-read while live (ms, default 5000). A
   * partition attached since (its rows appear without a trigger firing) gets its TRUNCATE trigger
   * and a rescan; one detached (its rows vanish) a rescan. Never for a plain table.
   */
  partitionCheckMs?: number;
}

export interface WatchHandle {
  readonly channel: string;
  /** Stop after the batch in flight: UNLISTEN, disconnect, release the flow lock. */
  stop(): Promise<void>;
  /** Resolves when the watch has stopped; rejects when it failed for good (e.g. PERMISSION_DENIED). */
  done: Promise<void>;
}

/** Errors that a reconnect cannot fix: the flow, the table or the privileges need a person. */
function isFatal(e: TableSyncError): boolean {
  return INPUT_ERROR_CODES.has(e.code);
}

export function runWatch(rt: LiveRuntime, opts: WatchOptions = {}): WatchHandle {
  const batchDelayMs = opts.batchDelayMs ?? 2;
  const batchMaxKeys = opts.batchMaxKeys ?? 500;
  const partitionCheckMs = opts.partitionCheckMs ?? 5_000;
  const { flowName, names } = rt;
  const wakeup = new Wakeup();
  // A catch-up of a big table can take a while: stop() cancels it (it rolls back as a whole).
  const stopController = new AbortController();
  let stopping = false;

  // A subscriber's exception must not look like a failed batch (and trigger a reconnect).
  const deliver = <T>(fn: ((x: T) => void) | undefined, x: T) => {
    try {
      fn?.(x);
    } catch (e) {
      queueMicrotask(() => { throw e; });
    }
  };
  const status = (state: ListenerStatus['state'], extra: Partial<ListenerStatus> = {}) => {
    deliver(opts.onStatus, { time: new Date().toISOString(), flow: flowName, channel: names.channel, state, ...extra });
  };
  const event = (e: Omit<ChangeEvent, 'time' | 'flow'>) => {
    deliver(opts.onEvent, { time: new Date().toISOString(), flow: flowName, ...e });
  };
  // Source change (trigger time, ~commit for short transactions) → target commit, in 0.1 ms.
  const latency = (since: number | undefined, committedAt: number) =>
    since === undefined ? null : Math.max(0, Math.round((committedAt - since) * 10) / 10);

  // When the target was last known to match the source (see ListenerStatus.stalenessMs).
  let matchedAt: number | undefined;
  let pending = true;
  const staleness = () => (!pending || matchedAt === undefined ? 0 : Math.max(0, Date.now() - matchedAt));
  const catchUpEvent = (info: CatchUpInfo | undefined, changed: number) => {
    event({ op: 'catch-up', key: {}, outcome: changed > 0 ? 'applied' : 'skipped', latencyMs: null, ...(info ? { catchUp: info } : {}) });
  };

  const applyBatch = async (applier: Applier, batch: Batch): Promise<void> => {
    if (batch.keys.length > 0) {
      let result: Awaited<ReturnType<Applier['syncKeys']>>;
      try {
        result = await applier.syncKeys(batch.keys.map((k) => k.values));
      } catch (e) {
        const err = toTableSyncError(e, 'applying notified changes');
        for (const k of batch.keys) event({ op: k.op, key: k.key, outcome: 'failed', latencyMs: null, error: err.message });
        throw err;
      }
      batch.keys.forEach((k, i) => {
        event({ op: k.op, key: k.key, outcome: result.outcomes[i] ?? 'applied', latencyMs: latency(k.since, result.committedAt) });
      });
    }
    if (batch.rescan) {
      try {
        const r = await applier.catchUp(stopController.signal);
        event({ op: batch.rescan.op, key: {}, outcome: r.changed > 0 ? 'applied' : 'skipped', latencyMs: latency(batch.rescan.since, r.committedAt), ...(r.info ? { catchUp: r.info } : {}) });
      } catch (e) {
        const err = toTableSyncError(e, `rescanning after ${batch.rescan.op === 'truncate' ? 'a truncate' : 'a change too big to notify'}`);
        event({ op: batch.rescan.op, key: {}, outcome: 'failed', latencyMs: null, error: err.message });
        throw err;
      }
    }
  };

  let reachedLive = false;
  /** One connection's life: returns the reason it ended (undefined when stopping). */
  const cycle = async ({ table, applier, watchLost }: LiveSession): Promise<string | undefined> => {
    const batcher = new Batcher(table.keyColumns);
    let lostReason: string | undefined;
    let listener: Listener | undefined;
    // A lost listener (or target) cancels a catch-up in flight: it is noticed within a heartbeat,
    // not when a long catch-up ends, and the catch-up starts over on the next connection.
    const lostController = new AbortController();
    const markLost = (reason: string) => { lostReason ??= reason; lostController.abort(); wakeup.wake(); };
    watchLost?.(markLost);
    let lagTimer: NodeJS.Timeout | undefined;
    try {
      listener = await openListener(rt.sourceUrl, names.channel, {
        onNotification: (payload) => {
          const wasEmpty = batcher.empty;
          batcher.add(parseCaptureMessage(payload, table.keyColumns));
          if (wasEmpty || batcher.size >= batchMaxKeys) wakeup.wake();
        },
        onLost: markLost,
      }, opts.listener);
      await ensureCapture(rt.sourcePool, table, names);
      // Read after the install: a partition attached in between is either in it or noticed below.
      let partitions = await partitionSignature(rt.sourcePool, table);
      let nextPartitionCheck = partitions ? Date.now() + partitionCheckMs : Infinity;
      if (stopping) return undefined;
      status('catching-up', { stalenessMs: staleness() });
      const catchUpStart = Date.now();
      let caught: Awaited<ReturnType<Applier['catchUp']>>;
      try {
        caught = await applier.catchUp(AbortSignal.any([stopController.signal, lostController.signal]));
      } catch (e) {
        if (lostReason) return lostReason;
        if (stopping) return undefined;
        throw e;
      }
      if (lostReason) return lostReason;
      // The catch-up's snapshot was taken after it started: the target matched the source then.
      matchedAt = catchUpStart;
      pending = !batcher.empty;
      catchUpEvent(caught.info, caught.changed);
      status('live', { caughtUp: caught.changed, ...(caught.info ? { catchUp: caught.info } : {}), stalenessMs: staleness() });
      reachedLive = true;
      const lagEvery = opts.lagStatusMs ?? 10_000;
      const lagTick = () => {
        lagTimer = setTimeout(() => {
          const st = staleness();
          if (!stopping && !lostReason && st > 1000) status('live', { stalenessMs: st });
          lagTick();
        }, lagEvery);
        lagTimer.unref?.();
      };
      lagTick();
      while (!stopping && !lostReason) {
        if (Date.now() >= nextPartitionCheck) {
          const now = await partitionSignature(rt.sourcePool, table);
          if (now !== partitions) {
            await ensureCapture(rt.sourcePool, table, names);
            partitions = now;
            batcher.add({ op: 'rescan', reason: 'the partitions of the source table changed' });
          }
          nextPartitionCheck = Date.now() + partitionCheckMs;
        }
        if (batcher.empty) {
          pending = false;
          await wakeup.wait(Number.isFinite(nextPartitionCheck) ? nextPartitionCheck - Date.now() : undefined);
          continue;
        }
        pending = true;
        const age = Date.now() - (batcher.oldestArrival ?? Date.now());
        if (batcher.size < batchMaxKeys && age < batchDelayMs) {
          await wakeup.wait(batchDelayMs - age);
          continue;
        }
        const takenAt = Date.now();
        await applyBatch(applier, batcher.take(batchMaxKeys));
        if (batcher.empty) matchedAt = takenAt;
      }
      return stopping ? undefined : lostReason;
    } finally {
      if (lagTimer) clearTimeout(lagTimer);
      await listener?.close();
    }
  };

  const run = async (): Promise<void> => {
    let attempt = 0;
    while (!stopping) {
      status('connecting', attempt === 0 ? {} : { attempt });
      let failure: string | undefined;
      reachedLive = false;
      try {
        failure = await rt.session(cycle);
        if (failure === undefined) break;
      } catch (e) {
        if (stopping) break;
        const err = toTableSyncError(e);
        // LOCKED on the first attempt: another writer has the flow, say so. Later it is most
        // likely an apply that will finish: keep retrying.
        if (isFatal(err) || (err.code === 'LOCKED' && attempt === 0)) {
          status('failed', { reason: err.message });
          throw err;
        }
        failure = err.message;
      }
      if (stopping) break;
      // a connection that made it to live starts a fresh backoff
      attempt = reachedLive ? 1 : attempt + 1;
      pending = true;
      status('reconnecting', { attempt, reason: failure, stalenessMs: staleness() });
      await wakeup.wait(backoffDelay(attempt, opts.backoff));
    }
  };

  const done = run().then(
    () => { status('stopped'); },
    (e: unknown) => { throw toTableSyncError(e); },
  );
  // Mark the rejection handled here: callers that only ever call stop() must not crash the process.
  done.catch(() => {});
  const stop = async () => {
    stopping = true;
    stopController.abort();
    wakeup.wake();
    await done.catch(() => {});
  };
  opts.signal?.addEventListener('abort', () => { void stop(); }, { once: true });
  if (opts.signal?.aborted) void stop();
  return { channel: names.channel, stop, done };
}
