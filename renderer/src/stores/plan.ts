/**
 * The diff preview and apply of one flow: compute the plan (writes nothing), tick each destructive
 * step to allow it, apply with the reviewed plan's fingerprint (a stale plan is recomputed and shown
 * again, never applied blindly), follow progress events, cancel, and keep the result. Verify
 * compares the target with what the flow says it should hold (hand edits a plan cannot see), and the
 * repair tick makes the apply rewrite the drifted rows too.
 */
import { createStore } from 'zustand/vanilla';
import { errorCode, errorMessage, newRequestId, type ApiClient } from '../api/client';
import type { ApplyProgress, ApplyResult, Plan, VerifyResult } from '../api/types';
import { messageWithHowToAllow } from '../lib/refusal';

export interface PlanState {
  flow: string | null;
  plan: Plan | null;
  planning: boolean;
  planRequestId: string | null;
  error: string | null;
  /** Indexes of destructive steps the user allowed for this apply. */
  allowed: number[];
  /** managedBy "user": the user allowed this apply to take over the rows they wrote (the plan's conflicts). */
  takeOver: boolean;
  applying: boolean;
  applyRequestId: string | null;
  progress: ApplyProgress | null;
  /** How far the apply is, 0–100, across all its phases; never goes back (see applyPercent). */
  percent: number | null;
  result: ApplyResult | null;
  /** The user's own cancel, said as what happened (not an error): 'plan' or 'apply'. */
  cancelled: 'plan' | 'apply' | null;
  applyError: string | null;
  /** Set when apply found the world changed since the plan: the new plan is shown for review. */
  staleNotice: string | null;
  verifying: boolean;
  verifyRequestId: string | null;
  verify: VerifyResult | null;
  verifyError: string | null;
  /** Apply also rewrites the rows verify finds drifted. */
  repair: boolean;
  runVerify(flow: string): Promise<void>;
  setRepair(repair: boolean): void;
  /** keepResult: leave the last apply's result on screen (the recompute right after an apply). */
  computePlan(flow: string, opts?: { keepResult?: boolean }): Promise<void>;
  setAllowed(step: number, allowed: boolean): void;
  setTakeOver(takeOver: boolean): void;
  /** True when nothing blocks apply and every destructive step is ticked. */
  canApply(): boolean;
  apply(): Promise<ApplyResult | null>;
  cancel(): Promise<void>;
  onProgress(p: ApplyProgress & { requestId?: string }): void;
  reset(): void;
}

/** A plan with no steps and no row changes: applying would only confirm what is there (conflicts count only when taken over). */
export function nothingToDo(plan: Plan, takeOver = false): boolean {
  const r = plan.rows;
  return plan.steps.length === 0 && r.insert === 0 && r.update === 0 && r.delete === 0 && !(takeOver && (r.conflict ?? 0) > 0);
}

export function destructiveSteps(plan: Plan | null): number[] {
  return plan ? plan.steps.flatMap((s, i) => (s.destructive ? [i] : [])) : [];
}

/** Where each phase starts and ends on the bar: the row phases get most of it. */
const SPAN: Partial<Record<ApplyProgress['phase'], [number, number]>> = {
  locking: [0, 2], ddl: [2, 5], scanning: [5, 20], loading: [20, 70], merging: [70, 82], deleting: [82, 86],
  indexes: [86, 94], attachments: [94, 97], committing: [97, 99], done: [100, 100],
};

/**
 * The apply's overall progress: a phase's share of the bar, filled by its rows where it counts them.
 * It never moves back: the index phase (no row counts) must not empty the bar that loading filled.
 */
export function applyPercent(p: ApplyProgress, previous: number | null): number {
  const [from, to] = SPAN[p.phase] ?? [0, 0];
  const frac = p.rowsTotal ? Math.min(1, p.rowsDone / Math.max(1, p.rowsTotal)) : 0;
  const here = from + (to - from) * frac;
  return Math.max(previous ?? 0, here);
}

export function createPlanStore(api: ApiClient) {
  return createStore<PlanState>()((set, get) => ({
    flow: null,
    plan: null,
    planning: false,
    planRequestId: null,
    error: null,
    allowed: [],
    takeOver: false,
    applying: false,
    applyRequestId: null,
    progress: null,
    percent: null,
    result: null,
    cancelled: null,
    applyError: null,
    staleNotice: null,
    verifying: false,
    verifyRequestId: null,
    verify: null,
    verifyError: null,
    repair: false,
    async runVerify(flow) {
      const verifyRequestId = newRequestId('verify');
      set({ verifying: true, verifyRequestId, verifyError: null, ...(get().flow === flow ? {} : { verify: null }) });
      try {
        const verify = await api.call('flows.verify', { name: flow, requestId: verifyRequestId, listLimit: 500 });
        if (get().verifyRequestId !== verifyRequestId) return;
        set({ verify, verifying: false, verifyRequestId: null });
      } catch (e) {
        if (get().verifyRequestId !== verifyRequestId) return;
        set({ verifying: false, verifyRequestId: null, verify: null, verifyError: errorCode(e) === 'CANCELLED' ? 'Verify was cancelled.' : errorMessage(e) });
      }
    },
    setRepair(repair) {
      set({ repair });
    },
    async computePlan(flow, opts = {}) {
      const planRequestId = newRequestId('plan');
      const keepResult = get().flow === flow && !!opts.keepResult;
      const otherFlow = get().flow !== flow;
      set({ flow, planning: true, planRequestId, error: null, allowed: [], takeOver: false, ...(keepResult ? {} : { plan: null, result: null, progress: null, percent: null, applyError: null, staleNotice: null, cancelled: null }), ...(otherFlow ? { verify: null, verifyError: null, repair: false } : {}) });
      try {
        const plan = await api.call('flows.plan', { name: flow, requestId: planRequestId, sampleLimit: 200 });
        if (get().planRequestId !== planRequestId) return;
        set({ plan, planning: false, planRequestId: null });
      } catch (e) {
        if (get().planRequestId !== planRequestId) return;
        set({ planning: false, planRequestId: null, ...(errorCode(e) === 'CANCELLED' ? { error: null, cancelled: 'plan' as const } : { error: errorMessage(e) }) });
      }
    },
    setAllowed(step, allowed) {
      const a = new Set(get().allowed);
      if (allowed) a.add(step);
      else a.delete(step);
      set({ allowed: [...a].sort((x, y) => x - y) });
    },
    setTakeOver(takeOver) {
      set({ takeOver });
    },
    canApply() {
      const { plan, allowed, applying, planning, repair, verify, takeOver } = get();
      if (!plan || applying || planning || plan.blockers.length > 0) return false;
      // Nothing to do for the source, but drift to repair (or rows you allowed to take over): that apply is worth running.
      if (nothingToDo(plan, takeOver) && !(repair && verify && !verify.equal)) return false;
      return destructiveSteps(plan).every((i) => allowed.includes(i));
    },
    async apply() {
      const s = get();
      if (!s.plan || !s.flow || !get().canApply()) return null;
      const applyRequestId = newRequestId('apply');
      set({ applying: true, applyRequestId, progress: null, percent: null, result: null, applyError: null, staleNotice: null, cancelled: null });
      try {
        const result = await api.call('flows.apply', {
          name: s.flow,
          allowDestructive: destructiveSteps(s.plan).length > 0,
          expectedFingerprint: s.plan.fingerprint,
          repair: s.repair,
          takeOver: s.takeOver && (s.plan.rows.conflict ?? 0) > 0,
          requestId: applyRequestId,
        });
        set({ applying: false, applyRequestId: null, result, percent: 100, progress: get().progress ? { ...get().progress!, phase: 'done' } : null, ...(s.repair ? { repair: false } : {}) });
        // What the screen shows must stay true: after apply, the plan as of now (normally: nothing to do),
        // and a verify shown before is run again (after a repair: no drift).
        await get().computePlan(s.flow, { keepResult: true });
        if (s.verify || s.repair) await get().runVerify(s.flow);
        return result;
      } catch (e) {
        const code = errorCode(e);
        set({ applying: false, applyRequestId: null });
        if (code === 'PLAN_STALE') {
          const staleNotice = 'The source, the target or the flow changed since this plan was computed. Here is the plan as of now: review it and apply again.';
          await get().computePlan(s.flow);
          set({ staleNotice });
        } else {
          set(code === 'CANCELLED' ? { cancelled: 'apply' } : { applyError: messageWithHowToAllow(e, 'To allow them, tick “allow” on each destructive step of the plan, then Apply.') });
        }
        return null;
      }
    },
    async cancel() {
      const id = get().applyRequestId ?? get().planRequestId ?? get().verifyRequestId;
      if (id) await api.call('query.cancel', { requestId: id }).catch(() => null);
    },
    onProgress(p) {
      const s = get();
      if (!s.applying) return;
      if (p.requestId ? p.requestId !== s.applyRequestId : p.flow !== s.flow) return;
      set({ progress: p, percent: applyPercent(p, get().percent) });
    },
    reset() {
      set({ flow: null, plan: null, error: null, allowed: [], takeOver: false, progress: null, percent: null, result: null, applyError: null, staleNotice: null, cancelled: null, verify: null, verifyError: null, repair: false });
    },
  }));
}
export type PlanStore = ReturnType<typeof createPlanStore>;
