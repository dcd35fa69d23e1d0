/**
 * Live change capture (DESIGN §3 Live, reference doc 000 `notification`): a trigger on the source
 * table notifies a channel with the changed keys; a dedicated listener re-reads them through the
 * filter and applies them to the target in small batches, one transaction each, after a catch-up
 * scan on every (re)connect.
 *
 * @example
 * const ctx = await openFlow(flow, connectionResolver());
 * const watch = watchFlow(ctx, { onEvent: (e) => console.log(e.op, e.key, e.outcome, e.latencyMs) });
 * process.once('SIGINT', () => void watch.stop());
 * await watch.done;
 */
import type pg from 'pg';
import type { ChangeEvent, ListenerStatus } from '../api/model';
import { TableSyncError } from '../errors';
import { readFlowState, writeLiveState, withFlowLock } from '../state';
import { catchUpOn, prepareKeySync, unlessStale, type FlowContext, type KeyOutcome, type KeySync } from '../target';
import { jobFromFlow } from '../target/flow-job';
import { captureTableOf, dropCapture, partitionSignature } from './capture';
import { preciseNow, runWatch, type Applier, type WatchHandle, type WatchOptions } from './watch';
import { watchLogical, type LogicalWatchOptions } from './logical';
import { BackendCancel, cancelSenderForUrl } from '../connections/cancel';
import { flowCaptureNames, isLiveState, namesOf, type LiveState } from './drop-parts';
import { ordinalBelow } from './ordinal-text';

export { captureNames, defaultChannel, type CaptureNames } from './channel';
export { captureDropPart, logicalDropPart, flowCaptureNames, type LiveState } from './drop-parts';
export { captureSql, captureDropSql, parseMarker, type CaptureTable, type CaptureOwner } from './capture-sql';
export { ensureCapture, captureState, dropCapture, planCaptureDrop, readCaptureCatalog, type CaptureState } from './capture';
export { judgeInstall, planDrop, type CaptureCatalog, type DropPlan } from './ownership';
export { watchSet, type SetWatchOptions } from './set-watch';
export { runWatch, type WatchHandle, type WatchOptions, type Applier, type LiveSession, type LiveRuntime } from './watch';
export type { ChangeEvent, ListenerStatus };
export { watchLogical, type LogicalWatchOptions } from './logical';
export { logicalNames, defaultLogicalName, type LogicalState } from './logical-objects';



const guarded = new WeakSet<object>();
const ignoreError = () => { /* the query in flight (if any) rejects with it; the next one fails */ };

/**
 * A pooled client emits 'error' when its server goes away while it is checked out (pg-pool only
 * listens while it is idle), and an 'error' event nobody listens to ends the process. A watch
 * outlives server restarts by design, so every client it borrows gets a listener; the failure still
 * reaches the code through the query it fails. Returns the function that stops guarding.
 * TODO(lead): belongs in connections/createPool for every pool.
 */
function guardPool(pool: pg.Pool): () => void {
  const onAcquire = (client: pg.PoolClient) => {
    if (guarded.has(client)) return;
    guarded.add(client);
    client.on('error', ignoreError);
  };
  pool.on('acquire', onAcquire);
  return () => { pool.off('acquire', onAcquire); };
}

/**
 * Catch up, then apply the source's changes to the target as they happen, until stopped. Holds the
 * flow's advisory lock (target database) while it runs; creates the capture trigger and function
 * on the source table (or replaces outdated ones). The flow must have `source.notification`.
 */
export function watchFlow(ctx: FlowContext, opts: WatchOptions & Pick<LogicalWatchOptions, 'resync' | 'lagWarnBytes'> = {}): WatchHandle {
  const { flow } = ctx;
  // The capture behind the watch: trigger + NOTIFY (below) or a logical-replication slot
  // (logical.ts). Both report the same events and statuses, and hold the same flow lock.
  if (flow.source.replication) {
    const unguardL = [guardPool(ctx.sourcePool), guardPool(ctx.targetPool)];
    const h = watchLogical(ctx, opts);
    void h.done.catch(() => {}).finally(() => { for (const u of unguardL) u(); });
    return h;
  }
  if (!flow.source.notification) {
    throw new TableSyncError('INVALID_INPUT', `flow "${flow.name}" has no source.notification or source.replication: add "notification": {} (trigger capture) or "replication": {} (logical replication) to its source to watch it live`, { path: 'source.notification' });
  }
  const names = flowCaptureNames(flow);
  const unguard = [guardPool(ctx.sourcePool), guardPool(ctx.targetPool)];
  const handle = runWatch({
    flowName: flow.name,
    sourceUrl: ctx.sourceUrl,
    sourcePool: ctx.sourcePool,
    names,
    session: (fn) => withFlowLock(ctx.targetPool, flow.name, async (client) => {
      // The lock's connection stays checked out for the whole cycle, where the pool no longer
      // listens for its errors: without a listener, a target restart would crash the process.
      let lost: ((reason: string) => void) | undefined;
      const onError = (e: Error) => lost?.(`target connection (holding the flow lock) lost: ${e.message}`);
      client.on('error', onError);
      const locked: FlowContext = { ...ctx, targetClient: client };
      // Resolved once per connection cycle, not per batch: a batch is a few keys and must stay cheap.
      const job = await jobFromFlow(locked);
      const table = captureTableOf(flow, job);
      // Prepared after a catch-up (which may have changed the flow's setup), reused by every batch.
      let keySync: KeySync | undefined;
      // The catch-up mark (core/target/catch-up.ts `anchor`): the live state as the last catch-up
      // wrote it, the window it used, and what the batches since add to it.
      const ordinalType = job.source.ordinalType;
      const clocked = ordinalType !== undefined && /^timestamp with time zone$/i.test(ordinalType);
      let liveRecord: LiveState | undefined;
      let windowFrom: string | undefined;
      let clockMs: number | undefined;
      let dirty = false;
      let urgent = false;
      // this cycle: a row inserted below its window was seen; rows inserted at or above it since the flag
      let sawBelow = false;
      let insertedInOrder = 0;
      let writtenAt = 0;
      const applier: Applier = {
        syncKeys: async (keys) => {
          keySync ??= await prepareKeySync(client, job);
          const outcomes = await keySync.run(keys);
          return { outcomes, committedAt: preciseNow() }; // run resolves right after its statement committed
        },
        catchUp: async (signal, catchUpOpts = {}) => {
          // A rescan's notified keys go first in its one transaction, by this cycle's batch applier
          // (one statement in the caller's transaction). Without one (key types overridden, or the
          // flow needs an apply first) the scan alone covers them.
          const { rescan } = catchUpOpts;
          let keyOutcomes: KeyOutcome[] | undefined;
          let before: ((c: pg.ClientBase) => Promise<void>) | undefined;
          if (rescan?.keys.length) {
            const ks = keySync ?? await unlessStale(prepareKeySync(client, job));
            if (ks?.oneStatement) before = async () => { keyOutcomes = await ks.run(rescan.keys, { inCallerTransaction: true }); };
          }
          keySync = undefined;
          // Stopped, or the listener was lost: cancel whatever the lock's connection is waiting for
          // (a long scan, a lock), so the cycle ends now and not when the catch-up would have;
          // repeated until the catch-up ended (a cancel can land between two statements and miss),
          // and the connection is not reused after (core/connections/cancel.ts).
          const cancel = new BackendCancel(cancelSenderForUrl(ctx.targetUrl));
          cancel.add(client);
          const onAbort = () => cancel.cancel();
          signal.addEventListener('abort', onAbort, { once: true });
          // A partitioned table's partitions, read before the scan and recorded with what it found:
          // one attached or detached while the watch was stopped keeps its rows' old ordinals, out
          // of the window a catch-up reads, so a change since the last record is a full rescan.
          // (two connections: the source's pool, the locked target client)
          // The source's clock now, before the scan's snapshot: every change committed before it is in the scan.
          const [partitions, prior, clockNow] = await Promise.all([
            partitionSignature(ctx.sourcePool, table),
            readFlowState(client, flow.name).then((st) => st?.live),
            clocked ? ctx.sourcePool.query<{ ms: string }>(`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8::text AS ms`).then((q) => Number(q.rows[0]!.ms)) : Promise.resolve(undefined),
          ]);
          const recorded = isLiveState(prior) ? prior.partitions : undefined;
          const moved = !rescan && partitions !== '' && recorded !== partitions
            ? (recorded === undefined ? 'the partitions of the source table were not recorded yet' : 'the partitions of the source table changed while the watch was stopped')
            : undefined;
          const reason = rescan?.reason ?? moved;
          const ordinalColumn = job.source.ordinalColumn;
          // (seen by this cycle and not yet written: kept too)
          const seen = (isLiveState(prior) ? prior.notMonotone : undefined) ?? liveRecord?.notMonotone;
          const notMonotone = seen && seen.column === ordinalColumn ? seen : undefined;
          const priorClock = isLiveState(prior) && clocked && typeof prior.clockMs === 'number' && Number.isFinite(prior.clockMs) ? prior.clockMs : undefined;
          const anchor = { ...(priorClock !== undefined ? { clockMs: priorClock } : {}), ...(notMonotone ? { notMonotone: notMonotone.reason } : {}) };
          let r: Awaited<ReturnType<typeof catchUpOn>>;
          try {
            // changed keys not all known: with an ordinal, the rescan compares values too (an UPDATE may have left the ordinal alone)
            const compareValues = rescan?.lostKeys === true && job.source.mode === 'ordinal';
            r = await catchUpOn(client, job, { signal, keySync: () => prepareKeySync(client, job), ordinalIndex: true, anchor, ...(reason ? { oneTransaction: { reason, ...(before ? { before } : {}), ...(compareValues ? { compareValues } : {}) } } : {}) });
          } finally {
            signal.removeEventListener('abort', onAbort);
            // Not awaited: with the target gone (a lost listener often means that) the cancels'
            // own connection may take its connect timeout to fail, and the cycle must not wait for it.
            void cancel.settle();
          }
          const { committedAt, windowFrom: from, ...info } = r;
          if (from !== undefined) windowFrom = from;
          clockMs = clockNow;
          const live: LiveState = {
            schema: table.schema, table: table.table, channel: names.channel, functionName: names.functionName, rowTrigger: names.rowTrigger, truncateTrigger: names.truncateTrigger,
            ...(partitions ? { partitions } : {}), ...(clockNow !== undefined ? { clockMs: clockNow } : {}), ...(notMonotone ? { notMonotone } : {}),
          };
          await retireOldCapture(ctx, prior, live);
          await writeLiveState(client, flow.name, live);
          liveRecord = live;
          dirty = urgent = false;
          writtenAt = Date.now();
          return { changed: r.rows, committedAt, info, ...(keyOutcomes ? { keyOutcomes } : {}) };
        },
        noticed: (m) => {
          // A row inserted below the window this cycle's catch-up used: the column does not order
          // the changes, and an UPDATE of that kind made while stopped would have been missed (it
          // keeps the counts below the window equal). Inserts only: an UPDATE that leaves a row's
          // old ordinal alone also arrives below the window, and says nothing of new ordinals (no
          // catch-up finds it, window or full).
          if (!liveRecord || windowFrom === undefined || ordinalType === undefined || job.source.ordinalColumn === undefined) return;
          if (m.op !== 'insert' || typeof m.ordinal !== 'string') return;
          const below = ordinalBelow(ordinalType, m.ordinal, windowFrom);
          if (below === undefined) return;
          if (below) {
            sawBelow = true;
            if (liveRecord.notMonotone) return;
            liveRecord = { ...liveRecord, notMonotone: {
              column: job.source.ordinalColumn,
              reason: `a row inserted (key ${JSON.stringify(m.key)}) got ordinal ${m.ordinal}, below the window its watch's catch-up read (from ${windowFrom}): ${job.source.ordinalColumn} does not order the changes (a per-row counter, hand-set or backdated values, or a commit later than the window allows), so a window could miss an UPDATE made while the watch is stopped; the catch-ups of this flow are full scans until a watch sees ${CLEAR_AFTER_INSERTS} rows inserted in order and none below its window`,
            } };
            dirty = urgent = true;
          } else if (liveRecord.notMonotone && !sawBelow && ++insertedInOrder >= CLEAR_AFTER_INSERTS) {
            // the inserts order again (a backfill of old rows ended): the window is trusted again
            const { notMonotone: _cleared, ...rest } = liveRecord;
            void _cleared;
            liveRecord = rest;
            dirty = urgent = true;
          }
        },
        applied: async (sinceMs, appliedOpts = {}) => {
          if (!liveRecord) return;
          if (clocked && sinceMs !== undefined && (clockMs === undefined || sinceMs > clockMs)) {
            clockMs = sinceMs;
            dirty = true;
          }
          // Now and then (an older mark only widens the next window), at once for the flag, and at the end.
          if (!dirty || (!appliedOpts.final && !urgent && Date.now() - writtenAt < MARK_EVERY_MS)) return;
          const next: LiveState = { ...liveRecord, ...(clockMs !== undefined ? { clockMs } : {}) };
          await writeLiveState(client, flow.name, next);
          liveRecord = next;
          dirty = urgent = false;
          writtenAt = Date.now();
        },
      };
      try {
        return await fn({ table, applier, watchLost: (cb) => { lost = cb; } });
      } finally {
        client.off('error', onError);
      }
    }),
  }, opts);
  void handle.done.catch(() => {}).finally(() => { for (const u of unguard) u(); });
  return handle;
}

/** How often at most a live watch records its catch-up mark (ms): one small UPDATE of the flow's state. */
const MARK_EVERY_MS = 5_000;
/** Rows inserted at or above its window (and none below) that a watch must see to trust the window again. */
const CLEAR_AFTER_INSERTS = 1_000;

/**
 * The flow's channel (or source table) changed since the trigger was created: the old trigger
 * would keep notifying a channel nobody listens to, so it goes (only objects marked as this flow's).
 * Best effort: a failure (e.g. the old table is gone or belongs to someone else) must not stop the
 * watch; drop tries again.
 */
async function retireOldCapture(ctx: FlowContext, recorded: unknown, now: LiveState): Promise<void> {
  if (!isLiveState(recorded)) return;
  if (recorded.schema === now.schema && recorded.table === now.table && recorded.functionName === now.functionName) return;
  await dropCapture(ctx.sourcePool, ctx.flow.name, recorded, namesOf(recorded), { onlyTable: true }).catch(() => {});
}




