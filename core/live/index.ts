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
import { qualifiedName } from '../sql/ident';
import { connectClient } from '../connections/pool';
import { readFlowState, writeLiveState, withFlowLock } from '../state';
import { catchUpOn, prepareKeySync, type DropPart, type FlowContext, type KeySync } from '../target';
import { jobFromFlow } from '../target/flow-job';
import { captureNames, type CaptureNames } from './channel';
import { dropCapture, planCaptureDrop } from './capture';
import { preciseNow, runWatch, type Applier, type WatchHandle, type WatchOptions } from './watch';
import { watchLogical, logicalDropSql, type LogicalWatchOptions } from './logical';
import { dropPublicationIfOurs, dropSlot, isLogicalState, logicalNames, slotInfo } from './logical-objects';
import { backendPid } from '../connections/backend-pid';

export { captureNames, defaultChannel, type CaptureNames } from './channel';
export { captureSql, captureDropSql, parseMarker, type CaptureTable, type CaptureOwner } from './capture-sql';
export { ensureCapture, captureState, dropCapture, planCaptureDrop, readCaptureCatalog, type CaptureState } from './capture';
export { judgeInstall, planDrop, type CaptureCatalog, type DropPlan } from './ownership';
export { watchSet, type SetWatchOptions } from './set-watch';
export { runWatch, type WatchHandle, type WatchOptions, type Applier, type LiveSession, type LiveRuntime } from './watch';
export type { ChangeEvent, ListenerStatus };
export { watchLogical, type LogicalWatchOptions } from './logical';
export { logicalNames, defaultLogicalName, type LogicalState } from './logical-objects';

/** What core/live records in the flow's state row (tablesync.flows.live), so drop removes what was created. */
export interface LiveState {
  schema: string;
  table: string;
  channel: string;
  functionName: string;
  rowTrigger: string;
  truncateTrigger: string;
}

/** The capture names for a flow (channel from `source.notification.channelName`, else the default). */
export function flowCaptureNames(flow: FlowContext['flow']): CaptureNames {
  return captureNames(flow.name, flow.source.table, flow.source.notification?.channelName);
}

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
      const keyColumns = job.source.keyColumns.map((c) => c.name);
      const table = {
        flow: flow.name,
        schema: job.source.schema,
        table: job.source.table,
        keyColumns,
        ...(job.source.ordinalColumn ? { ordinalColumn: job.source.ordinalColumn } : {}),
      };
      // Prepared after a catch-up (which may have changed the flow's setup), reused by every batch.
      let keySync: KeySync | undefined;
      const applier: Applier = {
        syncKeys: async (keys) => {
          keySync ??= await prepareKeySync(client, job);
          const outcomes = await keySync.run(keys);
          return { outcomes, committedAt: preciseNow() }; // run resolves right after its statement committed
        },
        catchUp: async (signal) => {
          keySync = undefined;
          // Stopped, or the listener was lost: cancel whatever the lock's connection is waiting for
          // (a long scan, a lock), so the cycle ends now and not when the catch-up would have.
          // A cancel can land between two statements and miss: repeat it until the catch-up ended.
          let settled = false;
          const onAbort = () => {
            void (async () => {
              while (!settled) {
                await cancelBackend(ctx.targetUrl, client);
                await new Promise((r) => setTimeout(r, 200));
              }
            })();
          };
          signal.addEventListener('abort', onAbort, { once: true });
          let r: Awaited<ReturnType<typeof catchUpOn>>;
          try {
            r = await catchUpOn(client, job, { signal, keySync: () => prepareKeySync(client, job) });
          } finally {
            settled = true;
            signal.removeEventListener('abort', onAbort);
          }
          const { committedAt, ...info } = r;
          const live: LiveState = { schema: table.schema, table: table.table, channel: names.channel, functionName: names.functionName, rowTrigger: names.rowTrigger, truncateTrigger: names.truncateTrigger };
          await retireOldCapture(ctx, (await readFlowState(client, flow.name))?.live, live);
          await writeLiveState(client, flow.name, live);
          return { changed: r.rows, committedAt, info };
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

/** pg_cancel_backend for `client`'s statement in flight, over a connection of its own (best effort). */
async function cancelBackend(url: string, client: pg.PoolClient): Promise<void> {
  const pid = backendPid(client);
  if (pid === undefined) return;
  try {
    const c = await connectClient(url, { applicationName: 'tablesync cancel' });
    c.on('error', ignoreError);
    try {
      await c.query('SELECT pg_cancel_backend($1)', [pid]);
    } finally {
      await c.end().catch(() => {});
    }
  } catch {
    /* a one-session server (PGlite) has no second connection: the catch-up ends when its statement does */
  }
}

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

function namesOf(l: LiveState): CaptureNames {
  return { channel: l.channel, functionName: l.functionName, rowTrigger: l.rowTrigger, truncateTrigger: l.truncateTrigger };
}

function isLiveState(v: unknown): v is LiveState {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return ['schema', 'table', 'channel', 'functionName', 'rowTrigger', 'truncateTrigger'].every((k) => typeof o[k] === 'string');
}

/**
 * The part of dropFlow that removes the source's capture objects: those recorded when watch last
 * ran (the flow's channel or table may have changed since), and those the flow names now. Only
 * objects marked as this flow's are removed (triggers first, then the function, and the function
 * only when nothing else calls it); others of those names are listed as left alone.
 * Passed to dropFlow by dropPartsFor (core/app/drop-parts.ts).
 */
export const captureDropPart: DropPart = async (ctx, state) => {
  const targets: Array<{ schema: string; table: string; names: CaptureNames }> = [];
  if (isLiveState(state?.live)) targets.push({ schema: state.live.schema, table: state.live.table, names: namesOf(state.live) });
  const current = { schema: ctx.flow.source.schema, table: ctx.flow.source.table, names: flowCaptureNames(ctx.flow) };
  if (!targets.some((t) => t.schema === current.schema && t.table === current.table && t.names.channel === current.names.channel)) targets.push(current);
  const flow = ctx.flow.name;
  const planned = await Promise.all(targets.map(async (t) => ({ t, plan: await planCaptureDrop(ctx.sourcePool, flow, t, t.names) })));
  const relevant = planned.filter((p) => p.plan.statements.length > 0 || p.plan.leftAlone.length > 0);
  if (relevant.length === 0) return undefined;
  return {
    steps: relevant.map(({ t, plan }) => ({
      kind: 'drop-trigger' as const,
      summary: [
        plan.statements.length > 0
          ? `drop change-capture triggers and function "${t.names.functionName}" on the source`
          : `no change-capture objects of this flow on ${qualifiedName(t.schema, t.table)}`,
        ...(plan.leftAlone.length > 0 ? [`left alone, not this flow's: ${plan.leftAlone.join(', ')}`] : []),
      ].join('; '),
      sql: plan.statements,
      destructive: false,
      hazards: [],
    })),
    run: async () => {
      for (const { t } of relevant) await dropCapture(ctx.sourcePool, flow, t, t.names);
    },
  };
};

/**
 * The part of dropFlow that removes a logical flow's slot and its publication, each only when it is
 * ours: the slot when the flow's state records it (a slot carries no marker, and the watch records
 * the slots it creates at once), the publication when it carries the flow's marker.
 */
export const logicalDropPart: DropPart = async (ctx, state) => {
  const recorded = isLogicalState(state?.live) ? state.live : undefined;
  if (!recorded && !ctx.flow.source.replication) return undefined;
  const names = recorded ? { slot: recorded.slot, publication: recorded.publication } : logicalNames(ctx.flow);
  const hasSlot = recorded !== undefined && (await slotInfo(ctx.sourcePool, names.slot).catch(() => undefined)) !== undefined;
  const { rows } = await ctx.sourcePool.query<{ c: string | null }>(`SELECT obj_description(oid, 'pg_publication') AS c FROM pg_publication WHERE pubname = $1`, [names.publication]).catch(() => ({ rows: [] as { c: string | null }[] }));
  const ownPublication = rows.length > 0 && rows[0]!.c === `tablesync flow ${JSON.stringify(ctx.flow.name)}`;
  if (!hasSlot && !ownPublication) return undefined;
  return {
    steps: [{
      kind: 'drop-trigger' as const,
      summary: `drop replication slot "${names.slot}"${ownPublication ? ` and publication "${names.publication}"` : ''} on the source`,
      sql: logicalDropSql(names, ownPublication),
      destructive: false,
      hazards: [],
    }],
    run: async () => {
      if (hasSlot) await dropSlot(ctx.sourcePool, names.slot);
      if (ownPublication) await dropPublicationIfOurs(ctx.sourcePool, names.publication, ctx.flow.name);
    },
  };
};
