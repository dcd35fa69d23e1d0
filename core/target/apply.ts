/**
 * apply: converge the target in ONE transaction on one connection (the one holding the flow lock):
 * plan again from scratch inside the transaction (the plan the user saw is checked by fingerprint,
 * never trusted), run the DDL, move the rows, create indexes, run attachment setups, record state,
 * commit. Any failure or crash before COMMIT leaves the target exactly as it was.
 */
import type pg from 'pg';
import type { ApplyProgress, ApplyResult, PlanStep, RowCounts } from '../api/model';
import { TableSyncError, toTableSyncError } from '../errors';
import { destructiveRefusalDetail } from '../api/errors.destructive';
import { ensureStateSchema, stateSchemaSql, writeFlowState } from '../state/store';
import { prepare, type Prepared } from './prepare';
import { planFingerprint } from './plan';
import { createScanTables, diffDigest, checkUnchanged, diffRows, dropScanTables, loadScan, tuneSession, tuneTransaction } from './rows';
import { applyRows } from './load-rows';
import { diagnoseCasts, isValueFailure } from './cast-check';
import type { SyncJob } from './job';
import { dropVerifyTables, repairDrift } from './verify';
import { cleanupStaging, initialLoadDigest, planInitialLoad, runInitialLoad, type InitialLoadPlan } from './initial-load';

export interface ApplyOptions {
  allowDestructive?: boolean;
  /** Fingerprint of the plan the user approved; a different world means recompute (see applyOn). */
  expectedFingerprint?: string;
  onProgress?: (p: ApplyProgress) => void;
  signal?: AbortSignal;
  /**
   * managedBy "user": overwrite and own the rows you wrote whose key the source also has (the
   * plan's conflicts). Without it they are left alone: neither written nor tracked.
   */
  takeOver?: boolean;
  /** Refuse any step that is not safe, even when allowed (catch-up of a live flow). */
  safeOnly?: boolean;
  /** Also rewrite the rows verify finds drifted (hand edits of the target), in this same transaction. */
  repair?: boolean;
  /** Initial load: parallel streams (flow `load.streams`, `--streams`); default by table size (initial-load.ts). */
  streams?: number;
  /** Extra target connections for a parallel initial load (without it, one stream). */
  openTargetPool?: (max: number) => pg.Pool;
  /**
   * Runs first in the apply's transaction (its text settings set), so that what it writes commits
   * with the apply, or not at all: a live rescan applies its batch's notified keys here (core/live).
   */
  before?: (client: pg.ClientBase) => Promise<void>;
}

function destructiveError(job: SyncJob, destructive: PlanStep[]): TableSyncError {
  return new TableSyncError('DESTRUCTIVE_NOT_ALLOWED', `flow "${job.flowName}" needs destructive steps, which run only when allowed: ${destructive.map((s) => `${s.summary} (${s.reason ?? s.hazards.join(', ')})`).join('; ')}`, destructiveRefusalDetail('apply', `flow "${job.flowName}"`, destructive));
}

function staleError(job: SyncJob, destructive: PlanStep[], fingerprint: string): TableSyncError {
  return new TableSyncError('PLAN_STALE', `the plan of flow "${job.flowName}" is out of date and the new plan has destructive steps (${destructive.map((s) => s.summary).join('; ')}); review the plan again`, { fingerprint });
}

async function runStep(client: pg.ClientBase, step: PlanStep): Promise<void> {
  if (step.kind === 'create-schema' && step.sql[0] === stateSchemaSql()[0]) {
    await ensureStateSchema(client);
    return;
  }
  for (const sql of step.sql) {
    try {
      await client.query(sql);
    } catch (e) {
      throw toTableSyncError(e, `step "${step.summary}" failed (${sql.split('\n')[0]})`);
    }
  }
}

function blockerError(p: Prepared): TableSyncError {
  const first = p.blockers[0]!;
  const code = (['UNSUPPORTED', 'INVALID_INPUT', 'PGVECTOR_MISSING', 'INCOMPATIBLE_TARGET'].includes(first.code) ? first.code : 'UNSUPPORTED') as 'UNSUPPORTED';
  return new TableSyncError(code, `flow "${p.job.flowName}" cannot be applied: ${p.blockers.map((b) => b.message).join('; ')}`, { blockers: p.blockers });
}

/**
 * Apply a job on a connection that holds the flow lock. With `expectedFingerprint`: when the world
 * changed since that plan, a plan whose new version has destructive steps fails with PLAN_STALE
 * (the user must look again); a plan without them is applied as recomputed, with `replanned: true`.
 */
export async function applyOn(client: pg.ClientBase, job: SyncJob, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const started = performance.now();
  const progress = (phase: ApplyProgress['phase'], rowsDone = 0, rowsTotal: number | null = null, message?: string) =>
    opts.onProgress?.({ flow: job.flowName, phase, rowsDone, rowsTotal, ...(message ? { message } : {}) });
  const abortCheck = () => {
    if (opts.signal?.aborted) throw new TableSyncError('CANCELLED', `apply of flow "${job.flowName}" was cancelled; the target is unchanged`);
  };
  await tuneSession(client);
  await client.query('BEGIN');
  let initial: InitialLoadPlan | undefined;
  try {
    await tuneTransaction(client);
    if (opts.before) await opts.before(client);
    const p = await prepare(client, job);
    if (p.blockers.length) throw blockerError(p);
    const steps = [...p.preSteps, ...p.postSteps];
    const destructive = steps.filter((s) => s.destructive);
    initial = await planInitialLoad(client, p, { ...(opts.streams !== undefined ? { streams: opts.streams } : {}), ...(opts.openTargetPool ? { openTargetPool: opts.openTargetPool } : {}), ...(opts.repair ? { repair: true } : {}) });
    let rows: RowCounts;
    let replanned = false;
    let repair: Awaited<ReturnType<typeof repairDrift>> | undefined;
    let skip = new Set<PlanStep>();
    /** The initial load's own account of how it ran ("3 streams, binary COPY"). */
    let loadHow: string | undefined;
    if (initial) {
      // An initial load: nothing to diff, the rows go straight in (initial-load.ts). Destructive
      // steps are refused before anything moves; a stale plan is found from what was tracked.
      if (destructive.length && (!opts.allowDestructive || opts.safeOnly)) throw destructiveError(job, destructive);
      progress('ddl', 0, p.preSteps.length);
      let loadDone: Set<PlanStep>;
      ({ rows, done: loadDone, how: loadHow } = await runInitialLoad(client, p, initial, async (pre) => {
        for (const s of pre) {
          abortCheck();
          await runStep(client, s);
        }
      }, {
        ...(opts.openTargetPool ? { openTargetPool: opts.openTargetPool } : {}),
        onPhase: (phase, done, total, message) => progress(phase, done, total, message),
        ...(opts.signal ? { signal: opts.signal } : {}),
      }));
      skip = loadDone;
      const now = opts.expectedFingerprint ? planFingerprint(p, rows, await initialLoadDigest(client, p)) : undefined;
      if (now !== undefined && now !== opts.expectedFingerprint) {
        if (destructive.length) throw staleError(job, destructive, now);
        replanned = true;
      }
    } else {
      progress('scanning');
      await createScanTables(client, p);
      // Repair needs the scan (its keys are what drifted rows are re-read by), even when nothing changed.
      const unchanged = opts.repair ? undefined : await checkUnchanged(client, p);
      const scanned = await loadScan(client, p, unchanged, (n) => progress('scanning', n, null), opts.signal);
      abortCheck();
      let diff = await diffRows(client, p, scanned, unchanged);
      if (opts.expectedFingerprint) {
        const now = planFingerprint(p, diff, await diffDigest(client, p, diff));
        if (now !== opts.expectedFingerprint) {
          if (destructive.length) throw staleError(job, destructive, now);
          replanned = true;
        }
      }
      if (destructive.length && (!opts.allowDestructive || opts.safeOnly)) throw destructiveError(job, destructive);
      repair = opts.repair ? await repairDrift(client, p, diff, opts.signal) : undefined;
      if (repair) diff = repair.diff;
      progress('ddl', 0, p.preSteps.length);
      for (const s of p.preSteps) {
        abortCheck();
        await runStep(client, s);
      }
      rows = await applyRows(client, p, diff, scanned, {
        takeOver: opts.takeOver === true,
        onPhase: (phase, done, total) => progress(phase, done, total),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    }
    abortCheck();
    progress('indexes', 0, p.postSteps.length);
    for (const s of p.postSteps) {
      if (skip.has(s)) continue;
      progress(s.kind.startsWith('attachment') ? 'attachments' : 'indexes');
      await runStep(client, s);
    }
    if (p.needsStateSchema) await ensureStateSchema(client);
    await writeFlowState(client, job.flowName, p.newSetup);
    abortCheck();
    progress('committing');
    await client.query('COMMIT');
    progress('done', rows.insert + rows.update + rows.delete, null);
    const tookOver = opts.takeOver && rows.conflict ? { tookOver: rows.conflict } : {};
    return { flow: job.flowName, rows, stepsRun: steps.length, durationMs: Math.round(performance.now() - started), replanned, ...tookOver, ...(repair ? { repaired: repair.repaired } : {}), ...(loadHow !== undefined ? { initialLoad: { how: loadHow } } : {}) };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    // A staged load's tables (rolled back into the state schema, or never moved): ours, dropped now.
    if (initial && initial.streams > 1) await cleanupStaging(client, job.flowName).catch(() => {});
    // A value refused by its target type: name the column, the rows and an example (exit 2).
    if (isValueFailure(e)) {
      const blockers = await diagnoseCasts(client, job).catch(() => []);
      if (blockers.length) {
        throw new TableSyncError('UNSUPPORTED', `flow "${job.flowName}" cannot be applied: ${blockers.map((b) => b.message).join('; ')}`, { blockers, target: 'unchanged (the apply transaction was rolled back)' }, { cause: e });
      }
    }
    const err = toTableSyncError(e, `apply of flow "${job.flowName}"`);
    throw new TableSyncError(err.code, err.message, { ...err.detail, target: 'unchanged (the apply transaction was rolled back)' }, { cause: e });
  }
}

/**
 * One apply in phases, for a set that applies many members in ONE transaction (core/set): every
 * member is prepared (and checked: blockers, destructive steps) before anything is written, then
 * the DDL of every member whose table exists runs, then every member's rows move (a member whose
 * table is new creates it here, with its rows: the initial load), then every member's post-load
 * steps and state. DDL on an existing table never meets pending (deferred) foreign-key checks that
 * way, and a refusal of the tenth member costs no work in the first nine.
 */
export interface PhasedApply {
  prepared: Prepared;
  /**
   * With `checkPlan`: the member's plan fingerprint and row counts as planOn would compute them now
   * (the set compares them with the plan the user reviewed), known once rows() ran: taken from the
   * apply's own scan, or, for a member with DDL to run, from a scan before it (the plan saw the
   * table before its DDL).
   */
  readonly planned: { fingerprint: string; rows: RowCounts } | undefined;
  /**
   * With `checkPlan`: the destructive steps that are not allowed, held back (DESTRUCTIVE_NOT_ALLOWED)
   * instead of thrown, so the set can say first whether the plan went stale. Its DDL is not run,
   * no rows move; rows() only scans for the fingerprint.
   */
  readonly refusal: TableSyncError | undefined;
  /** Table DDL and state setup (preSteps). */
  ddl(): Promise<void>;
  /** Scan, diff and move the rows; temporary tables are dropped afterwards. */
  rows(): Promise<RowCounts>;
  /** Post-load steps (NOT NULL, indexes, attachments) and the flow's state row. */
  finish(): Promise<ApplyResult>;
}

export interface PhasedApplyOptions extends ApplyOptions {
  /** Compute the member's plan fingerprint as the phases go (`planned`), and hold a destructive refusal back (`refusal`). */
  checkPlan?: boolean;
}

export async function beginPhasedApply(client: pg.ClientBase, job: SyncJob, opts: PhasedApplyOptions = {}): Promise<PhasedApply> {
  const started = performance.now();
  const progress = (phase: ApplyProgress['phase'], rowsDone = 0, rowsTotal: number | null = null) =>
    opts.onProgress?.({ flow: job.flowName, phase, rowsDone, rowsTotal });
  const abortCheck = () => {
    if (opts.signal?.aborted) throw new TableSyncError('CANCELLED', `apply of flow "${job.flowName}" was cancelled; the target is unchanged`);
  };
  const p = await prepare(client, job);
  if (p.blockers.length) throw blockerError(p);
  const steps = [...p.preSteps, ...p.postSteps];
  const destructive = steps.filter((s) => s.destructive);
  const refusal = destructive.length && (!opts.allowDestructive || opts.safeOnly) ? destructiveError(job, destructive) : undefined;
  if (refusal && !opts.checkPlan) throw refusal;
  let planned: PhasedApply['planned'];
  /**
   * The fingerprint from a scan of its own, as a plan takes it (no rows move). Silent in the DDL
   * pass: a member's 'scanning' says the set's rows pass reached it (the app's per-table states).
   */
  const planByScan = async (report: boolean) => {
    if (report) progress('scanning');
    await createScanTables(client, p);
    const diff = await diffRows(client, p, await loadScan(client, p, undefined, report ? (n) => progress('scanning', n, null) : undefined, opts.signal));
    planned = { fingerprint: planFingerprint(p, diff, await diffDigest(client, p, diff)), rows: diff };
    await dropScanTables(client);
  };
  let rows: RowCounts = { insert: 0, update: 0, delete: 0, unchanged: 0, foreign: 0 };
  let repaired: ApplyResult['repaired'];
  // A member whose table is new takes the flows' initial-load path (rows straight into the new
  // table, keys built after them; initial-load.ts), as one stream on the set's one connection. Its
  // DDL runs with its rows: it only creates relations of its own, which no pending foreign-key
  // check of another member concerns.
  const initial = await planInitialLoad(client, p, { streams: 1, estimate: false, ...(opts.repair ? { repair: true } : {}) });
  let skip = new Set<PlanStep>();
  return {
    prepared: p,
    get planned() { return planned; },
    refusal,
    ddl: async () => {
      if (initial) return;
      if (opts.checkPlan && p.preSteps.length) await planByScan(false);
      if (refusal) return;
      progress('ddl', 0, p.preSteps.length);
      for (const s of p.preSteps) {
        abortCheck();
        await runStep(client, s);
      }
      // The renames (if any) ran: from now on the relations are read under their own, new names.
      p.tableRead = p.tableSql;
      p.trackingRead = p.trackingSql;
    },
    rows: async () => {
      if (refusal) {
        if (!planned) await planByScan(true);
        return rows;
      }
      if (initial) {
        progress('ddl', 0, p.preSteps.length);
        const r = await runInitialLoad(client, p, initial, async (pre) => {
          for (const s of pre) {
            abortCheck();
            await runStep(client, s);
          }
        }, { onPhase: (phase, done, total, message) => opts.onProgress?.({ flow: job.flowName, phase, rowsDone: done, rowsTotal: total, ...(message ? { message } : {}) }), ...(opts.signal ? { signal: opts.signal } : {}) });
        rows = r.rows;
        skip = r.done;
        if (opts.checkPlan) planned = { fingerprint: planFingerprint(p, rows, await initialLoadDigest(client, p)), rows };
        abortCheck();
        return rows;
      }
      progress('scanning');
      await createScanTables(client, p);
      // Repair needs the scan (its keys are what drifted rows are re-read by), even when nothing changed.
      const unchanged = opts.repair ? undefined : await checkUnchanged(client, p);
      const scanned = await loadScan(client, p, unchanged, (n) => progress('scanning', n, null));
      abortCheck();
      let diff = await diffRows(client, p, scanned, unchanged);
      if (opts.checkPlan && !planned) planned = { fingerprint: planFingerprint(p, diff, await diffDigest(client, p, diff)), rows: diff };
      const repair = opts.repair ? await repairDrift(client, p, diff, opts.signal) : undefined;
      if (repair) { diff = repair.diff; repaired = repair.repaired; }
      if (opts.repair) await dropVerifyTables(client);
      rows = await applyRows(client, p, diff, scanned, {
        takeOver: opts.takeOver === true,
        onPhase: (phase, done, total) => progress(phase, done, total),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      await dropScanTables(client);
      abortCheck();
      return rows;
    },
    finish: async () => {
      progress('indexes', 0, p.postSteps.length);
      for (const s of p.postSteps) {
        if (skip.has(s)) continue;
        progress(s.kind.startsWith('attachment') ? 'attachments' : 'indexes');
        await runStep(client, s);
      }
      if (p.needsStateSchema) await ensureStateSchema(client);
      await writeFlowState(client, job.flowName, p.newSetup);
      return { flow: job.flowName, rows, stepsRun: steps.length, durationMs: Math.round(performance.now() - started), replanned: false, ...(opts.takeOver && rows.conflict ? { tookOver: rows.conflict } : {}), ...(repaired ? { repaired } : {}) };
    },
  };
}
