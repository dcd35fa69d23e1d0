// The plan screen's verify: drift found by flows.verify makes an apply with the repair tick worth
// running even when the plan has nothing to do, the tick goes into flows.apply, and after the
// apply the screen verifies again (so what it shows stays true).
import { describe, expect, it } from 'vitest';
import { createPlanStore } from '../../renderer/src/stores/plan';
import type { Plan, VerifyResult } from '../../renderer/src/api/types';
import { fakeApi } from './renderer-fake-api';

const inSync: Plan = {
  flow: 'f', fingerprint: 'fp', computedAt: new Date().toISOString(),
  source: { schema: 'public', table: 's' },
  target: { schema: 'public', table: 't', managedBy: 'system', exists: true },
  columns: [{ name: 'id', sourceName: 'id', type: 'bigint', nullable: false, keyPosition: 1 }],
  steps: [], rows: { insert: 0, update: 0, delete: 0, unchanged: 10, foreign: 0 }, rowMode: 'fingerprint', samples: [], blockers: [], warnings: [],
};

const verified = (changed: number): VerifyResult => ({
  flow: 'f', equal: changed === 0, sourceRows: 10, targetRows: 10,
  counts: { changed, missing: 0, extra: 0, notOwned: 0 },
  changed: changed ? [{ key: { id: '3' }, before: { id: '3' }, after: { id: '3' }, changed: [] }] : [], missing: [], extra: [], notOwned: [],
  truncated: false, method: changed ? 'buckets' : 'summary', unverifiedColumns: [], warnings: [], durationMs: 3,
});

describe('plan screen: verify and repair', () => {
  it('repairs only when ticked, then verifies again', async () => {
    const api = fakeApi();
    let drift = 1;
    api.handlers['flows.plan'] = (() => inSync) as never;
    api.handlers['flows.verify'] = (() => verified(drift)) as never;
    api.handlers['flows.apply'] = ((i: { repair: boolean }) => {
      if (i.repair) drift = 0;
      return { flow: 'f', rows: { insert: 0, update: 1, delete: 0, unchanged: 9, foreign: 0 }, stepsRun: 0, durationMs: 5, replanned: false, repaired: { changed: 1, missing: 0, extra: 0 } };
    }) as never;
    const p = createPlanStore(api);
    await p.getState().computePlan('f');
    expect(p.getState().canApply()).toBe(false); // nothing to do for the source
    await p.getState().runVerify('f');
    expect(p.getState().verify?.counts.changed).toBe(1);
    expect(p.getState().canApply()).toBe(false); // drift alone is not a reason until the tick says so
    p.getState().setRepair(true);
    expect(p.getState().canApply()).toBe(true);
    await p.getState().apply();
    expect(api.calls.find((c) => c.method === 'flows.apply')!.input).toMatchObject({ name: 'f', repair: true, expectedFingerprint: 'fp' });
    expect(api.calls.filter((c) => c.method === 'flows.verify')).toHaveLength(2);
    expect(p.getState().verify?.equal).toBe(true);
    expect(p.getState().repair).toBe(false);
  });
});
