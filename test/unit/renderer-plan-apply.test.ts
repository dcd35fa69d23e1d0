// The diff preview: destructive steps need their own tick, progress follows the apply's request id,
// and a plan that went stale is recomputed and shown again instead of being applied blindly.
import { describe, expect, it } from 'vitest';
import { ApiCallError } from '../../core/api/errors';
import { createPlanStore } from '../../renderer/src/stores/plan';
import type { Plan } from '../../renderer/src/api/types';
import { fakeApi } from './renderer-fake-api';

function plan(fingerprint: string, destructive = true): Plan {
  return {
    flow: 'f',
    fingerprint,
    computedAt: new Date().toISOString(),
    source: { schema: 'public', table: 's' },
    target: { schema: 'public', table: 't', managedBy: 'system', exists: true },
    columns: [{ name: 'id', sourceName: 'id', type: 'bigint', nullable: false, keyPosition: 1 }],
    steps: [
      { kind: 'add-column', summary: 'add column "a"', sql: ['ALTER TABLE …'], destructive: false, hazards: [] },
      ...(destructive ? [{ kind: 'drop-column' as const, summary: 'drop column "b"', sql: ['ALTER TABLE … DROP COLUMN "b"'], destructive: true, reason: 'deletes the column’s data', hazards: ['deletes-data' as const] }] : []),
    ],
    rows: { insert: 1, update: 0, delete: 0, unchanged: 0, foreign: 0 },
    rowMode: 'fingerprint',
    samples: [],
    blockers: [],
    warnings: [],
  };
}

describe('plan and apply', () => {
  it('refuses to apply until every destructive step is ticked, then sends the reviewed fingerprint', async () => {
    const api = fakeApi();
    api.handlers['flows.plan'] = (() => plan('fp1')) as never;
    api.handlers['flows.apply'] = (() => ({ flow: 'f', rows: { insert: 1, update: 0, delete: 0, unchanged: 0, foreign: 0 }, stepsRun: 2, durationMs: 5, replanned: false })) as never;
    const p = createPlanStore(api);
    await p.getState().computePlan('f');
    expect(p.getState().canApply()).toBe(false);
    expect(await p.getState().apply()).toBeNull();
    expect(api.calls.some((c) => c.method === 'flows.apply')).toBe(false);
    p.getState().setAllowed(1, true);
    expect(p.getState().canApply()).toBe(true);
    const r = await p.getState().apply();
    expect(r?.stepsRun).toBe(2);
    expect(api.calls.find((c) => c.method === 'flows.apply')!.input).toMatchObject({ name: 'f', allowDestructive: true, expectedFingerprint: 'fp1' });
    // and the screen then shows the plan as of now, not the one just applied
    expect(api.calls.filter((c) => c.method === 'flows.plan')).toHaveLength(2);
    expect(p.getState().result?.stepsRun).toBe(2);
  });

  it('a blocker blocks apply whatever is ticked', async () => {
    const api = fakeApi();
    api.handlers['flows.plan'] = (() => ({ ...plan('fp', false), blockers: [{ code: 'NEEDS_OVERRIDE', message: 'mood needs a type' }] })) as never;
    const p = createPlanStore(api);
    await p.getState().computePlan('f');
    expect(p.getState().canApply()).toBe(false);
  });

  it('on PLAN_STALE recomputes the plan and asks again', async () => {
    const api = fakeApi();
    let n = 0;
    api.handlers['flows.plan'] = (() => plan(`fp${++n}`, false)) as never;
    api.handlers['flows.apply'] = (() => {
      throw new ApiCallError('PLAN_STALE', 'the source changed');
    }) as never;
    const p = createPlanStore(api);
    await p.getState().computePlan('f');
    expect(await p.getState().apply()).toBeNull();
    expect(p.getState().plan?.fingerprint).toBe('fp2');
    expect(p.getState().staleNotice).toMatch(/changed since this plan/);
    expect(p.getState().applyError).toBeNull();
  });

  it('follows progress of its own apply only, and cancels it by request id', async () => {
    const api = fakeApi();
    api.handlers['flows.plan'] = (() => plan('fp', false)) as never;
    api.handlers['flows.apply'] = (() => {
      throw new ApiCallError('CANCELLED', 'cancelled');
    }) as never;
    const held = api.hold('flows.apply');
    const p = createPlanStore(api);
    await p.getState().computePlan('f');
    const applying = p.getState().apply();
    const id = p.getState().applyRequestId!;
    p.getState().onProgress({ flow: 'f', phase: 'loading', rowsDone: 5, rowsTotal: 10, requestId: 'someone-else' });
    expect(p.getState().progress).toBeNull();
    p.getState().onProgress({ flow: 'f', phase: 'loading', rowsDone: 5, rowsTotal: 10, requestId: id });
    expect(p.getState().progress?.rowsDone).toBe(5);
    await p.getState().cancel();
    expect(api.calls.find((c) => c.method === 'query.cancel')!.input).toEqual({ requestId: id });
    held.release();
    await applying;
    // the user's own cancel is what happened, not an error
    expect(p.getState().cancelled).toBe('apply');
    expect(p.getState().applyError).toBeNull();
    expect(p.getState().applying).toBe(false);
  });

  it('keeps the progress bar where loading left it through the phases without row counts', async () => {
    const api = fakeApi();
    api.handlers['flows.plan'] = (() => plan('fp', false)) as never;
    const held = api.hold('flows.apply');
    api.handlers['flows.apply'] = (() => ({ flow: 'f', rows: { insert: 10, update: 0, delete: 0, unchanged: 0 }, stepsRun: 1, durationMs: 5, replanned: false })) as never;
    const p = createPlanStore(api);
    await p.getState().computePlan('f');
    const applying = p.getState().apply();
    const id = p.getState().applyRequestId!;
    const seen: number[] = [];
    for (const [phase, rowsDone, rowsTotal] of [['scanning', 0, null], ['loading', 5, 10], ['loading', 10, 10], ['merging', 0, null], ['indexes', 0, null], ['committing', 0, null]] as const) {
      p.getState().onProgress({ flow: 'f', phase, rowsDone, rowsTotal, requestId: id });
      seen.push(p.getState().percent!);
    }
    expect(seen).toEqual([...seen].sort((a, b) => a - b)); // never goes back
    expect(seen[4]).toBeGreaterThan(seen[2]!); // the index phase moves on from where loading ended
    held.release();
    await applying;
    expect(p.getState().percent).toBe(100);
  });
});
