/**
 * The live loop of one flow (DESIGN §3 Live). Each cycle: connect a dedicated listener and LISTEN,
 * make sure the capture trigger is in place, run the incremental scan (catch-up), then apply the
 * notified keys in batches until the connection is lost or the watch is stopped.
 *
 * Batches are whole source transactions, by the set watcher's rule (tx-batches.ts): every
 * notification names its source transaction, a batch takes complete transactions only, never part
 * of one (several small ones up to `batchMaxKeys` keys, a larger one alone), and each batch is ONE
 * target transaction, so the target never shows half of a source transaction. Past
 * `maxPendingKeys` held keys (one huge transaction, or a backlog) the keys are dropped and the flow
 * catches up in one target transaction instead (the full incremental scan), which contains them whole.
 * Every rescan asked while live (that one, a TRUNCATE's, a partition change's) is such a catch-up,
 * and the keys of its batch go with it, so a source transaction with a TRUNCATE in it is one target
 * transaction too.
 *
 * Zero loss rests on the order: LISTEN commits before the catch-up's snapshot is taken, so a change
 * is either in that snapshot or notified afterwards (notifications that arrive during the catch-up
 * wait in the batcher; applying them again is harmless, they are re-read). Any failure, of the
 * listener or of applying a batch (the source or target went away), starts a new cycle after a
 * backoff, so the catch-up covers whatever the failed batch did not apply.
 */
import type pg from 'pg';
import type { CatchUpInfo, Cell, ChangeEvent, ListenerStatus } from '../api/model';
import { toTableSyncError } from '../errors';
import type { BackoffOptions } from './backoff';
import type { Batch } from './batcher';
import { MAX_PENDING_KEYS, TransactionBatches, type TransactionBatch } from './tx-batches';
import { ensureCapture, partitionSignature, restoreCapture } from './capture';
import type { KeyOutcome } from '../target';
import type { CaptureTable } from './capture-sql';
import type { CaptureNames } from './channel';
import { openListener, type Listener, type ListenerOptions } from './listener';
import { parseCaptureMessage, type CaptureMessage } from './payload';
import { deliverSafely, latencyMs, supervise, type SupervisedCycle } from './supervise';

export type { KeyOutcome };

/** The target side of live apply (core/target's syncKeys and catchUp, bound to a flow). */
export interface Applier {
  /** Re-read `keys` through the filter and apply them in ONE target transaction; `outcomes[i]` is for `keys[i]`. */
  syncKeys(keys: Cell[][]): Promise<{ outcomes: KeyOutcome[]; committedAt: number }>;
  /**
   * The catch-up (core/target's catchUpOn: the ordinal window, or the full incremental scan);
   * returns the number of rows it changed. Aborted by `signal` on stop and when the listener is lost.
   * `rescan` (asked while live: a truncate, dropped keys…): all of it in ONE target transaction (the
   * full scan, `reason` its reason), whose source transactions must arrive whole; the batch's
   * notified `keys` are applied first in that transaction (`keyOutcomes`, in their order), or, where
   * they cannot be (key types overridden), left to the scan.
   */
  catchUp(signal: AbortSignal, opts?: { rescan?: { reason: string; keys: Cell[][]; /** the changed keys are not all known: compare values (TransactionRescan.lostKeys) */ lostKeys?: boolean } }): Promise<{ changed: number; committedAt: number; info?: CatchUpInfo; keyOutcomes?: KeyOutcome[] }>;
  /** Every capture message as it arrives (the ordinal it carries is checked against the catch-up's window). */
  noticed?(m: CaptureMessage): void;
  /**
   * A batch was applied (`sinceMs`: the latest source trigger time among its keys), or, with
   * `final`, the cycle ends: the applier records its catch-up mark now and then (and at the end).
   */
  applied?(sinceMs: number | undefined, opts?: { final?: boolean }): Promise<void>;
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
  /** How long the first key of a batch may wait for company (ms; default 0: batches form while the one before is applied). */
  batchDelayMs?: number;
  /** A batch holds whole source transactions up to this many keys (one larger transaction is applied whole, alone). */
  batchMaxKeys?: number;
  /** Keys held in memory at most; above it the flow catches up in one transaction instead (see tx-batches.ts). */
  maxPendingKeys?: number;
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
  /**
   * How often the capture trigger and function are re-read while live (ms, default 5000). One
   * disabled, dropped or replaced meanwhile (ALTER TABLE … DISABLE TRIGGER ALL around a bulk load,
   * a migration) notifies nothing: it is restored and the source rescanned, so what changed
   * meanwhile arrives instead of the target drifting until the next start.
   */
  captureCheckMs?: number;
}

export interface WatchHandle {
  readonly channel: string;
  /** Stop after the batch in flight: UNLISTEN, disconnect, release the flow lock. */
  stop(): Promise<void>;
  /** Resolves when the watch has stopped; rejects when it failed for good (e.g. PERMISSION_DENIED). */
  done: Promise<void>;
}

export function runWatch(rt: LiveRuntime, opts: WatchOptions = {}): WatchHandle {
  // No fixed delay by default: an idle watch applies a key the moment it arrives; keys that arrive
  // while a batch is being applied wait and go together in the next one.
  const batchDelayMs = opts.batchDelayMs ?? 0;
  const batchMaxKeys = opts.batchMaxKeys ?? 500;
  const maxPendingKeys = opts.maxPendingKeys ?? MAX_PENDING_KEYS;
  const partitionCheckMs = opts.partitionCheckMs ?? 5_000;
  const captureCheckMs = opts.captureCheckMs ?? 5_000;
  const { flowName, names } = rt;

  const event = (e: Omit<ChangeEvent, 'time' | 'flow'>) => {
    deliverSafely(opts.onEvent, { time: new Date().toISOString(), flow: flowName, ...e });
  };

  // When the target was last known to match the source (see ListenerStatus.stalenessMs).
  let matchedAt: number | undefined;
  let pending = true;
  const staleness = () => (!pending || matchedAt === undefined ? 0 : Math.max(0, Date.now() - matchedAt));
  const catchUpEvent = (info: CatchUpInfo | undefined, changed: number) => {
    event({ op: 'catch-up', key: {}, outcome: changed > 0 ? 'applied' : 'skipped', latencyMs: null, ...(info ? { catchUp: info } : {}) });
  };

  const applyBatch = async (applier: Applier, batch: FlowBatch, signal: AbortSignal): Promise<void> => {
    if (batch.rescan) {
      // A truncate, a change too big to notify, a partition change or keys dropped over the memory
      // bound: the full incremental scan, in ONE target transaction, with the batch's keys applied
      // first in it. Applying them in a transaction of their own would split a source transaction
      // such as `BEGIN; TRUNCATE …; INSERT …; COMMIT` in two; leaving them to the scan alone would
      // lose a notified change that kept its ordinal (the scan re-reads only rows whose ordinal moved).
      const { rescan } = batch;
      let r: Awaited<ReturnType<Applier['catchUp']>>;
      try {
        r = await applier.catchUp(signal, { rescan: { reason: rescan.reason, keys: batch.keys.map((k) => k.values), ...(rescan.lostKeys ? { lostKeys: true } : {}) } });
      } catch (e) {
        const err = toTableSyncError(e, `rescanning after ${rescan.reason}`);
        for (const k of batch.keys) event({ op: k.op, key: k.key, outcome: 'failed', latencyMs: null, error: err.message });
        event({ op: rescan.op, key: {}, outcome: 'failed', latencyMs: null, error: err.message });
        throw err;
      }
      batch.keys.forEach((k, i) => event({ op: k.op, key: k.key, outcome: r.keyOutcomes?.[i] ?? 'applied', latencyMs: latencyMs(k.since, r.committedAt) }));
      event({ op: rescan.op, key: {}, outcome: r.changed > 0 ? 'applied' : 'skipped', latencyMs: latencyMs(rescan.since, r.committedAt), ...(r.info ? { catchUp: r.info } : {}) });
      return;
    }
    if (batch.keys.length === 0) return;
    let result: Awaited<ReturnType<Applier['syncKeys']>>;
    try {
      result = await applier.syncKeys(batch.keys.map((k) => k.values));
    } catch (e) {
      const err = toTableSyncError(e, 'applying notified changes');
      for (const k of batch.keys) event({ op: k.op, key: k.key, outcome: 'failed', latencyMs: null, error: err.message });
      throw err;
    }
    batch.keys.forEach((k, i) => {
      event({ op: k.op, key: k.key, outcome: result.outcomes[i] ?? 'applied', latencyMs: latencyMs(k.since, result.committedAt) });
    });
    let since: number | undefined;
    for (const k of batch.keys) if (k.since !== undefined && (since === undefined || k.since > since)) since = k.since;
    await applier.applied?.(since);
  };

  /** One connection's life, under the supervisor (core/live/supervise.ts). */
  const cycle = async (c: SupervisedCycle, { table, applier, watchLost }: LiveSession): Promise<void> => {
    // The flow is the one member of the transaction batches.
    const txs = new TransactionBatches<typeof FLOW>(() => table.keyColumns, maxPendingKeys);
    let listener: Listener | undefined;
    // The newest transaction is complete once a round trip on the listening connection, started
    // after its last notification, has come back (TransactionBatches.syncOn).
    const sync = () => txs.syncOn(listener, c.wake);
    // A lost listener (or target) cancels a catch-up in flight (c.signal): it is noticed within a
    // heartbeat, not when a long catch-up ends, and the catch-up starts over on the next connection.
    watchLost?.(c.lost);
    let lagTimer: NodeJS.Timeout | undefined;
    try {
      listener = await openListener(rt.sourceUrl, names.channel, {
        onNotification: (payload) => {
          const m = parseCaptureMessage(payload, table.keyColumns);
          applier.noticed?.(m);
          txs.add(FLOW, m);
          sync();
          c.wake();
        },
        onLost: c.lost,
      }, { ...opts.listener, probeVia: rt.sourcePool });
      await ensureCapture(rt.sourcePool, table, names);
      // Read after the install: a partition attached in between is either in it or noticed below.
      let partitions = await partitionSignature(rt.sourcePool, table);
      let nextPartitionCheck = partitions ? Date.now() + partitionCheckMs : Infinity;
      const catchUpStart = Date.now();
      const caught = await c.catchUp((signal) => applier.catchUp(signal), { stalenessMs: staleness() });
      if (!caught) return;
      // The catch-up's snapshot was taken after it started: the target matched the source then.
      matchedAt = catchUpStart;
      pending = !txs.empty;
      catchUpEvent(caught.info, caught.changed);
      c.live({ caughtUp: caught.changed, ...(caught.info ? { catchUp: caught.info } : {}), stalenessMs: staleness() });
      const lagEvery = opts.lagStatusMs ?? 10_000;
      const lagTick = () => {
        lagTimer = setTimeout(() => {
          const st = staleness();
          if (c.running && st > 1000) c.status('live', { stalenessMs: st });
          lagTick();
        }, lagEvery);
        lagTimer.unref?.();
      };
      lagTick();
      let nextCaptureCheck = Date.now() + captureCheckMs;
      const untilNextCheck = () => Math.min(nextPartitionCheck, nextCaptureCheck) - Date.now();
      while (c.running) {
        // The partitions first: a partition attached since lacks its TRUNCATE trigger, which the
        // capture check would take for a capture that was off (and rescan comparing every value).
        const captureDue = Date.now() >= nextCaptureCheck;
        if (Date.now() >= nextPartitionCheck || (captureDue && partitions)) {
          const now = await partitionSignature(rt.sourcePool, table);
          if (now !== partitions) {
            await ensureCapture(rt.sourcePool, table, names);
            partitions = now;
            txs.requestRescan('the partitions of the source table changed');
          }
          nextPartitionCheck = Date.now() + partitionCheckMs;
        }
        if (captureDue) {
          const restored = await restoreCapture(rt.sourcePool, table, names);
          if (restored) txs.requestRescan(restored, undefined, { lostKeys: true });
          nextCaptureCheck = Date.now() + captureCheckMs;
        }
        if (txs.empty) {
          pending = false;
          await c.wait(untilNextCheck());
          continue;
        }
        pending = true;
        const age = batchDelayMs > 0 ? Date.now() - (txs.oldestArrival ?? Date.now()) : 0;
        if (batchDelayMs > 0 && txs.pendingKeys < batchMaxKeys && age < batchDelayMs) {
          await c.wait(batchDelayMs - age);
          continue;
        }
        if (txs.needsSync) sync();
        const takenAt = Date.now();
        const taken = txs.take(batchMaxKeys);
        if (!taken) {
          await c.wait(untilNextCheck()); // the newest transaction may still be arriving: the round trip wakes us
          continue;
        }
        await applyBatch(applier, flowBatch(taken), c.signal);
        if (txs.empty) matchedAt = takenAt;
      }
    } finally {
      if (lagTimer) clearTimeout(lagTimer);
      await listener?.close();
      await applier.applied?.(undefined, { final: true }).catch(() => { /* the target is gone: the mark recorded before stands (an older one only widens the next window) */ });
    }
  };

  const sup = supervise({
    cycle: (c) => rt.session((s) => cycle(c, s)),
    status: (state, extra) => {
      deliverSafely(opts.onStatus, { time: new Date().toISOString(), flow: flowName, channel: names.channel, state, ...extra });
    },
    reconnecting: () => {
      pending = true;
      return { stalenessMs: staleness() };
    },
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { channel: names.channel, stop: sup.stop, done: sup.done };
}

/** The one member of a single flow's transaction batches. */
const FLOW = 0;

/** A batch of the flow's keys (one target transaction), or the rescan that applies them with the rest. */
interface FlowBatch {
  keys: Batch['keys'];
  rescan: { op: NonNullable<Batch['rescan']>['op']; since: number | undefined; reason: string; lostKeys?: boolean } | undefined;
}

/** Complete transactions of the flow as one batch: its keys, and the rescan they ask for (a truncate, a partition change, dropped keys). */
function flowBatch(t: TransactionBatch<typeof FLOW>): FlowBatch {
  const b = t.byMember.get(FLOW);
  return { keys: b?.keys ?? [], rescan: t.rescan ? { op: b?.rescan?.op ?? 'rescan', since: t.rescan.since, reason: t.rescan.reason, ...(t.rescan.lostKeys ? { lostKeys: true } : {}) } : undefined };
}
