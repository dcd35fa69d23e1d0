/**
 * One watcher for a whole set (issue: "one watcher"): ONE listener connection per source database
 * with one LISTEN per member channel on it, one target connection holding every member's lock, and
 * live batches that keep related changes together: the keys of every member that arrived together
 * are applied in ONE target transaction, so a source transaction that changed an order and its
 * lines becomes one target transaction (and the set's deferred foreign keys see both).
 *
 * Batches are whole source transactions (tx-batches.ts): every notification carries its source
 * transaction's id, a transaction's notifications arrive together at its commit, and a batch takes
 * complete transactions only, never part of one (up to `batchMaxKeys` keys, or one larger
 * transaction alone). More than `maxPendingKeys` keys waiting (one huge transaction, or a backlog)
 * turns into the set's catch-up, which is one target transaction too. If a member's COMMIT still
 * fails (a deferred foreign key the source did not have), the batch rolls back and the watcher
 * reconnects; its catch-up (the set's one-transaction apply) converges.
 *
 * Every (re)connect: LISTEN on every channel, ensure each member's trigger, then catch up the whole
 * set in one transaction (applySet, non-destructive), then live.
 */
import type pg from 'pg';
import type { Cell, ChangeEvent, ListenerStatus } from '../api/model';
import { TableSyncError, toTableSyncError } from '../errors';
import { applySet, expandSet, type SetContext } from '../set';
import { memberContext } from '../set';
import { lockFlows } from '../set/locks';
import { writeLiveState } from '../state/store';
import { TEXT_SETTINGS_SQL } from '../sql/text-settings';
import { prepareKeySync, unlessStale, type KeyOutcome, type KeySync } from '../target';
import { jobFromFlow } from '../target/flow-job';
import type { SyncJob } from '../target/job';
import type { BackoffOptions } from './backoff';
import type { Batch } from './batcher';
import { captureTableOf, ensureCapture, partitionSignature, restoreCapture } from './capture';
import type { CaptureTable } from './capture-sql';
import { captureNames, type CaptureNames } from './channel';
import { openListener, type Listener, type ListenerOptions } from './listener';
import { parseCaptureMessage } from './payload';
import { MAX_PENDING_KEYS, TransactionBatches } from './tx-batches';
import { preciseNow, type WatchHandle } from './watch';
import { deliverSafely, latencyMs, supervise, type SupervisedCycle } from './supervise';

export interface SetWatchOptions {
  onEvent?: (e: ChangeEvent) => void;
  /** Status of the set's listener; `flow` is the set's name, `channel` lists the member channels. */
  onStatus?: (s: ListenerStatus) => void;
  signal?: AbortSignal;
  /** A batch holds whole source transactions up to this many keys (one larger transaction is applied whole, alone). */
  batchMaxKeys?: number;
  /** Keys held in memory at most; above it the set catches up in one transaction instead (see tx-batches.ts). */
  maxPendingKeys?: number;
  listener?: ListenerOptions;
  backoff?: BackoffOptions;
  /** How often partitioned members' partitions are re-read while live (ms, default 5000; see WatchOptions). */
  partitionCheckMs?: number;
  /** How often the members' capture triggers and functions are re-read while live (ms, default 5000; see WatchOptions). */
  captureCheckMs?: number;
}

interface LiveMember {
  table: string;
  flow: string;
  job: SyncJob;
  capture: CaptureTable;
  names: CaptureNames;
  keySync?: KeySync;
  /** partitionSignature of the member's table when capture was last ensured ('' for a plain table). */
  partitions?: string;
}

export function watchSet(ctx: SetContext, opts: SetWatchOptions = {}): WatchHandle {
  const setName = ctx.set.set;
  const batchMaxKeys = opts.batchMaxKeys ?? 5000;
  const maxPendingKeys = opts.maxPendingKeys ?? MAX_PENDING_KEYS;
  let channelList = '';
  const event = (flow: string, e: Omit<ChangeEvent, 'time' | 'flow'>) => deliverSafely(opts.onEvent, { time: new Date().toISOString(), flow, ...e });
  const latency = latencyMs;

  const cycle = async (c: SupervisedCycle, client: pg.PoolClient): Promise<void> => {
    const onError = (e: Error) => c.lost(`target connection (holding the set's locks) lost: ${e.message}`);
    client.on('error', onError);
    let listener: Listener | undefined;
    try {
      const x = await expandSet(ctx.sourcePool, ctx.set);
      const watched = x.members.filter((m) => m.flow.source.notification);
      if (watched.length === 0) throw new TableSyncError('INVALID_INPUT', `set "${setName}" has no member with live capture: add "notification": {} to its defaults`, { path: ['defaults', 'notification'] });
      const release = await lockFlows(client, x.members.map((m) => m.flow.name));
      try {
        const members: LiveMember[] = [];
        for (const m of watched) {
          const job = await jobFromFlow(memberContext(ctx, m.flow, client));
          members.push({
            table: m.table, flow: m.flow.name, job,
            capture: captureTableOf(m.flow, job),
            names: captureNames(m.flow.name, m.flow.source.table, m.flow.source.notification?.channelName),
          });
        }
        const byChannel = new Map(members.map((m) => [m.names.channel, m]));
        channelList = members.map((m) => m.names.channel).join(', ');
        const pending = new TransactionBatches<LiveMember>((m) => m.capture.keyColumns, maxPendingKeys);
        listener = await openListener(ctx.sourceUrl, [...byChannel.keys()], {
          onNotification: (payload, channel) => {
            const m = byChannel.get(channel);
            if (!m) return;
            pending.add(m, parseCaptureMessage(payload, m.capture.keyColumns));
            c.wake();
          },
          onLost: c.lost,
        }, { applicationName: `tablesync set ${setName} listener`, ...opts.listener, probeVia: ctx.sourcePool });
        const heard = listener;
        for (const m of members) await ensureCapture(ctx.sourcePool, m.capture, m.names);
        // A partition attached later gets its TRUNCATE trigger and a rescan (see watch.ts).
        for (const m of members) m.partitions = await partitionSignature(ctx.sourcePool, m.capture);
        const partitioned = members.filter((m) => m.partitions);
        const partitionCheckMs = opts.partitionCheckMs ?? 5_000;
        const captureCheckMs = opts.captureCheckMs ?? 5_000;
        let nextPartitionCheck = partitioned.length ? Date.now() + partitionCheckMs : Infinity;

        /**
         * The whole set in one transaction. A rescan's batch (`batches`) has its notified keys applied
         * first in it, member by member (each member's one statement in the caller's transaction), so
         * they commit together with the scan: the scan alone re-reads only rows whose ordinal moved.
         * A member whose keys cannot go there (key types overridden, or it needs an apply) is left to the scan.
         */
        const catchUp = async (signal: AbortSignal, batches: { m: LiveMember; batch: Batch }[] = [], lostKeys = false) => {
          const outcomes = new Map<LiveMember, KeyOutcome[]>();
          const inTx: { m: LiveMember; batch: Batch; ks: KeySync }[] = [];
          for (const { m, batch } of batches) {
            const ks = batch.keys.length ? m.keySync ?? await unlessStale(prepareKeySync(client, m.job)) : undefined;
            if (ks?.oneStatement) inTx.push({ m, batch, ks });
          }
          const before = async () => {
            for (const { m, batch, ks } of inTx) outcomes.set(m, await ks.run(batch.keys.map((k) => k.values as Cell[]), { inCallerTransaction: true }));
          };
          for (const m of members) delete m.keySync;
          // changed keys not all known: the rescan compares values too (an UPDATE may have left a member's ordinal alone)
          const r = await applySet(ctx, { safeOnly: true, client, expanded: x, signal, ...(inTx.length ? { before } : {}), ...(lostKeys ? { repair: true } : {}) });
          const at = preciseNow();
          for (const m of members) {
            await writeLiveState(client, m.flow, { schema: m.capture.schema, table: m.capture.table, channel: m.names.channel, functionName: m.names.functionName, rowTrigger: m.names.rowTrigger, truncateTrigger: m.names.truncateTrigger });
          }
          return { changed: r.totals.insert + r.totals.update + r.totals.delete, at, outcomes };
        };

        const caught = await c.catchUp(catchUp);
        if (!caught) return;
        event(setName, { op: 'catch-up', key: {}, outcome: caught.changed > 0 ? 'applied' : 'skipped', latencyMs: null });
        c.live({ caughtUp: caught.changed });

        // The newest transaction is complete once a round trip on the listening connection, started
        // after its last notification, has come back (TransactionBatches.syncOn).
        const sync = () => pending.syncOn(heard, c.wake);

        let nextCaptureCheck = Date.now() + captureCheckMs;
        while (c.running) {
          // The partitions first (see watch.ts): an attached partition is not a capture that was off.
          const captureDue = Date.now() >= nextCaptureCheck;
          if (Date.now() >= nextPartitionCheck || (captureDue && partitioned.length)) {
            for (const m of partitioned) {
              const now = await partitionSignature(ctx.sourcePool, m.capture);
              if (now === m.partitions) continue;
              await ensureCapture(ctx.sourcePool, m.capture, m.names);
              m.partitions = now;
              pending.requestRescan(`the partitions of ${m.capture.schema}.${m.capture.table} changed`);
            }
            nextPartitionCheck = Date.now() + partitionCheckMs;
          }
          if (captureDue) {
            for (const m of members) {
              const restored = await restoreCapture(ctx.sourcePool, m.capture, m.names);
              if (restored) pending.requestRescan(restored, undefined, { lostKeys: true });
            }
            nextCaptureCheck = Date.now() + captureCheckMs;
          }
          if (pending.needsSync) sync();
          const taken = pending.empty ? undefined : pending.take(batchMaxKeys);
          if (!taken) {
            await c.wait(Math.min(nextPartitionCheck, nextCaptureCheck) - Date.now());
            continue;
          }
          const batches = [...taken.byMember].map(([m, batch]) => ({ m, batch }));
          if (taken.rescan) {
            // A truncate, an unreadable hint, a partition change or too many keys: the whole set
            // catches up, in one transaction, with the batch's keys.
            const r = await catchUp(c.signal, batches, taken.rescan.lostKeys === true);
            for (const { m, batch } of batches) {
              batch.keys.forEach((k, i) => event(m.flow, { op: k.op, key: k.key, outcome: r.outcomes.get(m)?.[i] ?? 'applied', latencyMs: latency(k.since, r.at) }));
              if (batch.rescan) event(m.flow, { op: batch.rescan.op, key: {}, outcome: r.changed > 0 ? 'applied' : 'skipped', latencyMs: latency(batch.rescan.since, r.at) });
            }
            if (batches.length === 0) event(setName, { op: 'rescan', key: {}, outcome: r.changed > 0 ? 'applied' : 'skipped', latencyMs: latency(taken.rescan.since, r.at), catchUp: { mode: 'full', rows: r.changed, scanned: null, durationMs: 0, reason: taken.rescan.reason } });
            continue;
          }
          for (const { m } of batches) m.keySync ??= await prepareKeySync(client, m.job);
          const together = batches.filter((b) => b.m.keySync!.oneStatement);
          const apart = batches.filter((b) => !b.m.keySync!.oneStatement);
          const outcomes = new Map<LiveMember, string[]>();
          try {
            if (together.length) {
              await client.query(`BEGIN; ${TEXT_SETTINGS_SQL}`);
              try {
                for (const { m, batch } of together) outcomes.set(m, await m.keySync!.run(batch.keys.map((k) => k.values as Cell[]), { inCallerTransaction: true }));
                try {
                  await client.query('COMMIT');
                } catch (e) {
                  throw toTableSyncError(e, 'commit (deferred foreign-key checks run here)');
                }
              } catch (e) {
                await client.query('ROLLBACK').catch(() => {});
                throw e;
              }
            }
            const at = preciseNow();
            for (const { m, batch } of together) batch.keys.forEach((k, i) => event(m.flow, { op: k.op, key: k.key, outcome: (outcomes.get(m)![i] ?? 'applied') as ChangeEvent['outcome'], latencyMs: latency(k.since, at) }));
            // Members whose key types fold (see key-batch.ts) commit on their own, after the rest.
            for (const { m, batch } of apart) {
              const o = await m.keySync!.run(batch.keys.map((k) => k.values as Cell[]));
              const t = preciseNow();
              batch.keys.forEach((k, i) => event(m.flow, { op: k.op, key: k.key, outcome: o[i] ?? 'applied', latencyMs: latency(k.since, t) }));
            }
          } catch (e) {
            const err = toTableSyncError(e, `applying notified changes of set "${setName}"`);
            for (const { m, batch } of batches) for (const k of batch.keys) event(m.flow, { op: k.op, key: k.key, outcome: 'failed', latencyMs: null, error: err.message });
            throw err;
          }
        }
      } finally {
        await release().catch(() => {});
      }
    } finally {
      client.off('error', onError);
      await listener?.close();
    }
  };

  const sup = supervise({
    cycle: async (c) => {
      const client = await ctx.targetPool.connect();
      // Back to the pool only after a clean stop; a lost or failed cycle's connection is discarded.
      let clean = false;
      try {
        await cycle(c, client);
        clean = c.stopping && c.lostReason === undefined;
      } finally {
        client.release(clean ? undefined : true);
      }
    },
    status: (state, extra) => deliverSafely(opts.onStatus, { time: new Date().toISOString(), flow: setName, channel: channelList, state, ...extra }),
    ...(opts.backoff ? { backoff: opts.backoff } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { get channel() { return channelList; }, stop: sup.stop, done: sup.done };
}
