/**
 * The target side of a flow: plan, apply, live key syncs, catch-up and drop. Every operation that
 * writes takes the flow's advisory lock (core/state) unless the context already carries the
 * lock-holding connection (`ctx.targetClient`, e.g. a live watcher that holds the lock throughout).
 *
 * @example
 * const ctx = await openFlow(await loadFlowFile('flow.json'), resolveConnection);
 * const plan = await planFlow(ctx);
 * await applyFlow(ctx, { expectedFingerprint: plan.fingerprint, allowDestructive: false });
 */
import type pg from 'pg';
import type { ApplyResult, InitialLoadChoice, Plan, PlanStep } from '../api/model';
import { withFlowLock } from '../state/lock';
import { applyOn, type ApplyOptions } from './apply';
import { createPool } from '../connections/pool';
import { dropOn, type DropOptions, type DropPart } from './drop';
import { jobFromFlow, withTargetClient } from './flow-job';
import type { FlowContext } from './job';
import { initialLoadOn, planOn, type PlanLoadOptions } from './plan';
import { syncKeysOn, type SyncKeysResult } from './sync-keys';
import { verifyOn } from './verify';
import type { VerifyResult } from '../api/model';

export type { FlowContext, SyncJob, TargetDef } from './job';
export type { ApplyOptions } from './apply';
export type { SyncKeysResult } from './sync-keys';
export { prepareKeySync, type KeySync, type KeyOutcome } from './key-batch';
export { type DropPart, type DropContribution, type DropOptions } from './drop';
export { vectorIndexName, createVectorIndexSql } from './vector-index';
export { planOn } from './plan';
export { applyOn } from './apply';
export { verifyOn, VERIFY_BUCKETS, VERIFY_LIST_LIMIT } from './verify';
export { catchUpOn, unlessStale, ORDINAL_WINDOW, WINDOW_ROW_LIMIT, type CatchUpResult, type CatchUpOptions } from './catch-up';
export { withFlowLock } from '../state/lock';

/** What applying the flow would do now; writes nothing anywhere. */
export async function planFlow(ctx: FlowContext, _opts: Record<string, never> = {}): Promise<Plan> {
  const job = await jobFromFlow(ctx);
  return withTargetClient(ctx, (c) => planOn(c, job, loadOptions(ctx)));
}

/**
 * How the flow's next apply would load its rows, if it is an initial load (see initialLoadOn):
 * catalog reads only, no scan. `automatic`: what the load would choose by itself (the flow's
 * `load.streams` left out), for the editor's "automatic: N streams for ~X rows".
 */
export async function initialLoadOf(ctx: FlowContext, opts: { automatic?: boolean } = {}): Promise<InitialLoadChoice | undefined> {
  const job = await jobFromFlow(ctx);
  const load = loadOptions(ctx);
  if (opts.automatic) delete load.streams;
  return withTargetClient(ctx, (c) => initialLoadOn(c, job, load));
}

/**
 * What an apply of this flow gives its initial load: the flow's `load.streams` and a factory of
 * extra target connections for the streams (a parallel load's streams connect on their own; the
 * flow's pool may hold one connection). Plan passes the same, so it says what apply will do.
 */
function loadOptions(ctx: FlowContext, streams = ctx.flow.load?.streams): PlanLoadOptions {
  return {
    ...(streams !== undefined ? { streams } : {}),
    openTargetPool: (max: number) => createPool(ctx.targetUrl, { max, applicationName: 'tablesync load', label: { side: 'target', name: 'initial load stream' } }),
  };
}

function locked<T>(ctx: FlowContext, fn: (c: pg.ClientBase) => Promise<T>, wait = false): Promise<T> {
  if (ctx.targetClient) return fn(ctx.targetClient);
  return withFlowLock(ctx.targetPool, ctx.flow.name, fn, { wait });
}

/**
 * Compare the target with what the flow says it should hold, on the servers (see verify.ts);
 * writes nothing anywhere. `equal` false: the result lists the changed, missing and extra rows.
 */
export async function verifyFlow(ctx: FlowContext, opts: { signal?: AbortSignal; listLimit?: number } = {}): Promise<VerifyResult> {
  const job = await jobFromFlow(ctx);
  return withTargetClient(ctx, (c) => verifyOn(c, job, opts));
}

/** Converge the target to the flow, all or nothing. */
export async function applyFlow(ctx: FlowContext, opts: ApplyOptions & { waitForLock?: boolean } = {}): Promise<ApplyResult> {
  const job = await jobFromFlow(ctx);
  const load = loadOptions(ctx, opts.streams ?? ctx.flow.load?.streams);
  return locked(ctx, (c) => applyOn(c, job, { ...opts, ...load, ...(opts.openTargetPool ? { openTargetPool: opts.openTargetPool } : {}) }), opts.waitForLock);
}

/** Re-read these source keys and make the target agree, in one transaction (live batches). */
export async function syncKeys(ctx: FlowContext, keys: (string | null)[][]): Promise<SyncKeysResult> {
  const job = await jobFromFlow(ctx);
  return locked(ctx, (c) => syncKeysOn(c, job, keys), true);
}

/** The incremental sync a live listener runs on every (re)connect: safe DDL only, never destructive. */
export async function catchUp(ctx: FlowContext, opts: Pick<ApplyOptions, 'onProgress' | 'signal'> = {}): Promise<ApplyResult> {
  const job = await jobFromFlow(ctx);
  return locked(ctx, (c) => applyOn(c, job, { ...opts, safeOnly: true }), true);
}

/**
 * Remove everything the flow created: the target's objects and state, and `parts` beyond the target
 * (the source's capture objects: pass `dropPartsFor(flow)` from core/app, see drop.ts).
 */
export async function dropFlow(ctx: FlowContext, parts: readonly DropPart[], opts: DropOptions = {}): Promise<{ steps: PlanStep[] }> {
  if (opts.dryRun) return withTargetClient(ctx, (c) => dropOn(c, ctx, parts, opts));
  return locked(ctx, (c) => dropOn(c, ctx, parts, opts));
}

export { TableSchema, TableTarget, declareTableTarget, mountTableTarget, type ColumnDef, type DeclareOptions } from './declare';
export { formatPlan, formatApplyResult, formatSteps, formatVerifyResult } from './plan-text';
