import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, planFlow } from '../../core/target';
import { rowsOf, sourceAndTarget, type Pair } from './target-fixture';

// A plan is applied only while it is still true: a non-destructive plan that went stale is
// recomputed and applied (replanned), one whose new version is destructive is refused with
// PLAN_STALE, and destructive steps never run without permission.
describe('stale plans and destructive permission', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget();
    await t.src.sql(`CREATE TABLE s (id int PRIMARY KEY, a text, b text)`);
    await t.src.sql(`INSERT INTO s SELECT g, 'a' || g, 'b' || g FROM generate_series(1, 20) g`);
  });
  afterAll(async () => { await t.close(); });
  const flow = (cols: string[]) => t.ctx({ name: 'stale', source: { table: 's', includedColumns: cols }, target: { table: 'st' } });

  it('an unchanged world applies the plan as is', async () => {
    const plan = await planFlow(flow(['a', 'b']));
    const r = await applyFlow(flow(['a', 'b']), { expectedFingerprint: plan.fingerprint });
    expect(r.replanned).toBe(false);
  });

  it('a source change since the plan: recomputed and applied', async () => {
    await t.src.sql(`UPDATE s SET a = 'x' WHERE id = 1`);
    const plan = await planFlow(flow(['a', 'b']));
    expect(plan.rows.update).toBe(1);
    await t.src.sql(`UPDATE s SET a = 'y' WHERE id = 2`);
    const r = await applyFlow(flow(['a', 'b']), { expectedFingerprint: plan.fingerprint });
    expect(r.replanned).toBe(true);
    expect(r.rows.update).toBe(2);
    expect(await rowsOf(t.tgt, 'st')).toEqual(await rowsOf(t.src, 's'));
  });

  it('destructive steps need permission, and a stale plan with them is refused', async () => {
    const plan = await planFlow(flow(['a', 'b']));
    await expect(applyFlow(flow(['a']))).rejects.toMatchObject({ code: 'DESTRUCTIVE_NOT_ALLOWED', message: expect.stringContaining('drop column "b"') });
    // The user saw `plan` (nothing destructive); the flow changed to drop a column meanwhile.
    await expect(applyFlow(flow(['a']), { expectedFingerprint: plan.fingerprint, allowDestructive: true })).rejects.toMatchObject({ code: 'PLAN_STALE' });
    expect(Object.keys((await rowsOf(t.tgt, 'st'))[0]!)).toEqual(['id', 'a', 'b']);
    const fresh = await planFlow(flow(['a']));
    const r = await applyFlow(flow(['a']), { expectedFingerprint: fresh.fingerprint, allowDestructive: true });
    expect(r.replanned).toBe(false);
    expect(Object.keys((await rowsOf(t.tgt, 'st'))[0]!)).toEqual(['id', 'a']);
  });
});
