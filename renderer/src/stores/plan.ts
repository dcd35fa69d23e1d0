/**
 * The diff preview and apply of one flow: compute the plan (writes nothing), tick each destructive
 * step to allow it, apply with the reviewed plan's fingerprint (a stale plan is recomputed and shown
 * again, never applied blindly), follow progress events, cancel, and keep the result.
 */
import { createStore } from 'zustand/vanilla';
import { errorCode, errorMessage, newRequestId, type ApiClient } from '../api/client';
import type { ApplyProgress, ApplyResult, Plan } from '../api/types';

export interface PlanState {
  flow: string | null;
  plan: Plan | null;
  planning: boolean;
  planRequestId: string | null;
  error: string | null;
  /** Indexes of destructive steps the user allowed for this apply. */
  allowed: number[];
  applying: boolean;
  applyRequestId: string | null;
  progress: ApplyProgress | null;
  result: ApplyResult | null;
  applyError: string | null;
  /** Set when apply found the world changed since the plan: the new plan is shown for review. */
  staleNotice: string | null;
  /** keepResult: leave the last apply's result on screen (the recompute right after an apply). */
  computePlan(flow: string, opts?: { keepResult?: boolean }): Promise<void>;
  setAllowed(step: number, allowed: boolean): void;
  /** True when nothing blocks apply and every destructive step is ticked. */
  canApply(): boolean;
  apply(): Promise<ApplyResult | null>;
  cancel(): Promise<void>;
  onProgress(p: ApplyProgress & { requestId?: string }): void;
  reset(): void;
}

/** A plan with no steps and no row changes: applying would only confirm what is there. */
export function nothingToDo(plan: Plan): boolean {
  const r = plan.rows;
  return plan.steps.length === 0 && r.insert === 0 && r.update === 0 && r.delete === 0;
}

export function destructiveSteps(plan: Plan | null): number[] {
  return plan ? plan.steps.flatMap((s, i) => (s.destructive ? [i] : [])) : [];
}

export function createPlanStore(api: ApiClient) {
  return createStore<PlanState>()((set, get) => ({
    flow: null,
    plan: null,
    planning: false,
    planRequestId: null,
    error: null,
    allowed: [],
    applying: false,
    applyRequestId: null,
    progress: null,
    result: null,
    applyError: null,
    staleNotice: null,
    async computePlan(flow, opts = {}) {
      const planRequestId = newRequestId('plan');
      const keepResult = get().flow === flow && !!opts.keepResult;
      set({ flow, planning: true, planRequestId, error: null, allowed: [], ...(keepResult ? {} : { plan: null, result: null, progress: null, applyError: null, staleNotice: null }) });
      try {
        const plan = await api.call('flows.plan', { name: flow, requestId: planRequestId, sampleLimit: 200 });
        if (get().planRequestId !== planRequestId) return;
        set({ plan, planning: false, planRequestId: null });
      } catch (e) {
        if (get().planRequestId !== planRequestId) return;
        set({ planning: false, planRequestId: null, error: errorCode(e) === 'CANCELLED' ? 'Planning was cancelled.' : errorMessage(e) });
      }
    },
    setAllowed(step, allowed) {
      const a = new Set(get().allowed);
      if (allowed) a.add(step);
      else a.delete(step);
      set({ allowed: [...a].sort((x, y) => x - y) });
    },
    canApply() {
      const { plan, allowed, applying, planning } = get();
      if (!plan || applying || planning || plan.blockers.length > 0) return false;
      if (nothingToDo(plan)) return false;
      return destructiveSteps(plan).every((i) => allowed.includes(i));
    },
    async apply() {
      const s = get();
      if (!s.plan || !s.flow || !get().canApply()) return null;
      const applyRequestId = newRequestId('apply');
      set({ applying: true, applyRequestId, progress: null, result: null, applyError: null, staleNotice: null });
      try {
        const result = await api.call('flows.apply', {
          name: s.flow,
          allowDestructive: destructiveSteps(s.plan).length > 0,
          expectedFingerprint: s.plan.fingerprint,
          requestId: applyRequestId,
        });
        set({ applying: false, applyRequestId: null, result, progress: get().progress ? { ...get().progress!, phase: 'done' } : null });
        // What the screen shows must stay true: after apply, the plan as of now (normally: nothing to do).
        await get().computePlan(s.flow, { keepResult: true });
        return result;
      } catch (e) {
        const code = errorCode(e);
        set({ applying: false, applyRequestId: null });
        if (code === 'PLAN_STALE') {
          const staleNotice = 'The source, the target or the flow changed since this plan was computed. Here is the plan as of now: review it and apply again.';
          await get().computePlan(s.flow);
          set({ staleNotice });
        } else {
          set({ applyError: code === 'CANCELLED' ? 'Apply was cancelled; the target is as it was before.' : errorMessage(e) });
        }
        return null;
      }
    },
    async cancel() {
      const id = get().applyRequestId ?? get().planRequestId;
      if (id) await api.call('query.cancel', { requestId: id }).catch(() => null);
    },
    onProgress(p) {
      const s = get();
      if (!s.applying) return;
      if (p.requestId ? p.requestId !== s.applyRequestId : p.flow !== s.flow) return;
      set({ progress: p });
    },
    reset() {
      set({ flow: null, plan: null, error: null, allowed: [], progress: null, result: null, applyError: null, staleNotice: null });
    },
  }));
}
export type PlanStore = ReturnType<typeof createPlanStore>;
