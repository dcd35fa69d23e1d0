import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
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

/** The statements sent (by any connection of this process) while `fn` runs that read `relation` (its quoted name). */
async function statementsReading(relation: string, fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const q = args[0] as string | { text?: unknown } | undefined;
    const text = typeof q === 'string' ? q : q?.text;
    if (typeof text === 'string' && text.includes(`FROM ${relation}`)) seen.push(text);
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    proto.query = original;
  }
  return seen;
}

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

  it('each member is planned once: the reviewed plan is checked against the apply\'s own reading of the source', async () => {
    await src.sql(`UPDATE language SET name = 'changed', last_update = clock_timestamp() WHERE language_id = 1`);
    // Twice the same change in the world, applied without and with the reviewed plan: the check adds no reading.
    const without = await statementsReading('"public"."language"', () => applySet(ctx));
    await src.sql(`UPDATE language SET name = 'changed again', last_update = clock_timestamp() WHERE language_id = 1`);
    const plan = await planSet(ctx);
    let r: Awaited<ReturnType<typeof applySet>> | undefined;
    const withPlan = await statementsReading('"public"."language"', async () => { r = await applySet(ctx, { expectedPlan: expectedOf(plan) }); });
    expect(withPlan.length).toBeGreaterThan(0);
    expect(withPlan.length).toBe(without.length);
    expect(r!.replanned).toBeUndefined();
    expect(r!.members.find((m) => m.table === 'language')!.rows.update).toBe(1);
    expect(await tableDigest(tgt, 'mirror.language', ORDER.language!)).toEqual(await tableDigest(src, 'public.language', ORDER.language!));
  });

  it('a stale plan whose new plan is destructive is refused as stale even when destructive steps are not allowed', async () => {
    const plan = await planSet(ctx);
    await src.sql(`ALTER TABLE store DROP COLUMN manager_staff_id`);
    try {
      const before = await tableDigest(tgt, 'mirror.store', ORDER.store!);
      const err = await applySet(ctx, { expectedPlan: expectedOf(plan) }).catch((e: unknown) => e) as TableSyncError;
      expect(err).toBeInstanceOf(TableSyncError);
      expect(err.code).toBe('PLAN_STALE');
      expect(err.message).toMatch(/plan of set "rental" is out of date and the new plan has destructive steps: "store": .*changed since the plan was computed.*destructive: .*"manager_staff_id"/);
      expect(err.detail).toEqual({ stale: [{ table: 'store', reason: expect.stringMatching(/destructive/) }], target: 'unchanged (nothing was written)' });
      expect(await tableDigest(tgt, 'mirror.store', ORDER.store!)).toEqual(before);
      // Reviewed again (it shows the drop) but still not allowed: the destructive refusal, as without a reviewed plan.
      const again = await applySet(ctx, { expectedPlan: expectedOf(await planSet(ctx)) }).catch((e: unknown) => e) as TableSyncError;
      const plain = await applySet(ctx).catch((e: unknown) => e) as TableSyncError;
      expect(again.code).toBe('DESTRUCTIVE_NOT_ALLOWED');
      expect(again.message).toBe(plain.message);
      expect(again.detail).toEqual(plain.detail);
      expect(await tableDigest(tgt, 'mirror.store', ORDER.store!)).toEqual(before);
    } finally {
      await src.sql(`ALTER TABLE store ADD COLUMN manager_staff_id int`);
    }
  });
});
