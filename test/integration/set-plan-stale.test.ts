import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { connectionResolver } from '../../core/flow/resolver';
import { applySet, openSet, parseSet, planSet, type ExpectedSetPlan, type SetContext } from '../../core/set';
import type { SetPlan } from '../../core/api/model.set';
import { TableSyncError } from '../../core/errors';
import { createRentalSchema, ORDER, rentalSet, tableDigest } from './set-fixture';

// "Plan went stale" for a set (as for a flow): apply takes the reviewed plan's fingerprints; a member
// whose world changed since is named with the reason; a change whose new plan deletes data is refused
// (target unchanged), any other is applied as recomputed and listed in `replanned`.
const expectedOf = (p: SetPlan): ExpectedSetPlan => ({ fingerprint: p.fingerprint, members: Object.fromEntries(p.members.map((m) => [m.table, m.plan?.fingerprint ?? ''])) });

describe('sets: apply checks the reviewed plan', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  let ctx: SetContext;
  beforeAll(async () => {
    src = await freshDatabase('stale_s');
    tgt = await freshDatabase('stale_t');
    await createRentalSchema(src);
    ctx = await openSet(parseSet(rentalSet(src.url, tgt.url)), connectionResolver());
    await applySet(ctx);
  });
  afterAll(async () => {
    await ctx?.close();
    await src?.drop();
    await tgt?.drop();
  });

  it('an unchanged world: the plan is the one applied (fingerprints are stable)', async () => {
    const a = await planSet(ctx);
    const b = await planSet(ctx);
    expect(b.fingerprint).toBe(a.fingerprint);
    const r = await applySet(ctx, { expectedPlan: expectedOf(a) });
    expect(r.replanned).toBeUndefined();
  });

  it('a source change since the plan: applied as recomputed, the member named with the reason', async () => {
    const plan = await planSet(ctx);
    await src.sql(`INSERT INTO language (language_id, name) VALUES (900, 'Esperanto')`);
    const r = await applySet(ctx, { expectedPlan: expectedOf(plan) });
    expect(r.replanned).toEqual([{ table: 'language', reason: expect.stringMatching(/changed since the plan was computed; now 1 to insert, 0 to update, 0 to delete/) }]);
    expect(await tableDigest(tgt, 'mirror.language', ORDER.language!)).toEqual(await tableDigest(src, 'public.language', ORDER.language!));
  });

  it('a change whose new plan deletes data is refused, naming the member and why; the target is unchanged', async () => {
    const plan = await planSet(ctx);
    expect(plan.totals.destructiveSteps).toBe(0);
    await src.sql(`ALTER TABLE actor DROP COLUMN name`);
    const before = await tgt.sql(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'mirror' AND table_name = 'actor' ORDER BY 1`);
    const err = await applySet(ctx, { expectedPlan: expectedOf(plan), allowDestructive: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TableSyncError);
    const e = err as TableSyncError;
    expect(e.code).toBe('PLAN_STALE');
    expect(e.message).toMatch(/plan of set "rental" is out of date and the new plan has destructive steps: "actor": .*changed since the plan was computed.*destructive: .*"name"/);
    expect(e.detail?.stale).toEqual([{ table: 'actor', reason: expect.stringMatching(/destructive/) }]);
    expect((await tgt.sql(`SELECT column_name FROM information_schema.columns WHERE table_schema = 'mirror' AND table_name = 'actor' ORDER BY 1`)).rows).toEqual(before.rows);
    // reviewed again: the new plan shows the drop, and applying it (allowed) is not stale
    const again = await planSet(ctx);
    expect(again.totals.destructiveSteps).toBeGreaterThan(0);
    const r = await applySet(ctx, { expectedPlan: expectedOf(again), allowDestructive: true });
    expect(r.replanned).toBeUndefined();
    expect((await tgt.sql(`SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = 'mirror' AND table_name = 'actor' AND column_name = 'name'`)).rows[0].n).toBe('0');
  });
});
