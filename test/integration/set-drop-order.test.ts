import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { connectionResolver } from '../../core/flow/resolver';
import { applySet, dropSet, openSet, parseSet, type SetContext } from '../../core/set';
import { watchSet } from '../../core/live';
import type { ListenerStatus } from '../../core/api/model';
import { createRentalSchema, MEMBER_TABLES, rentalSet } from './set-fixture';

// A set's drop (and the drop of members that left the set) runs its target part first and removes
// the source's capture triggers only just before the target commits, like a flow's drop: a drop the
// target refuses (someone's view on a member's table) leaves the capture triggers where they were.
async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('sets: a refused drop removes nothing, the source capture included', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  const opened: SetContext[] = [];
  const open = async (over: Record<string, unknown> = {}) => {
    const ctx = await openSet(parseSet(rentalSet(src.url, tgt.url, over)), connectionResolver());
    opened.push(ctx);
    return ctx;
  };
  const triggers = async (table?: string) => Number((await src.sql(
    `SELECT count(*) AS n FROM pg_trigger WHERE tgname LIKE 'rental.%' AND NOT tgisinternal AND tgrelid::regclass::text = ANY($1)`,
    [table ? [table] : MEMBER_TABLES])).rows[0].n);
  const recorded = async () => Number((await tgt.sql(`SELECT count(*) AS n FROM tablesync.flows WHERE flow LIKE 'rental.%'`)).rows[0].n);
  const exists = async (rel: string) => (await tgt.sql(`SELECT to_regclass($1) IS NOT NULL AS e`, [rel])).rows[0].e === 't';

  beforeAll(async () => {
    src = await freshDatabase('setdo_s');
    tgt = await freshDatabase('setdo_t');
    await createRentalSchema(src);
    // the set applied and watched once: every member has its capture trigger pair on the source
    const ctx = await open();
    const statuses: ListenerStatus[] = [];
    const handle = watchSet(ctx, { onStatus: (s) => statuses.push(s) });
    try {
      await until('live', async () => statuses.some((s) => s.state === 'live'));
    } finally {
      await handle.stop();
    }
  });
  afterAll(async () => {
    for (const c of opened) await c.close();
    await src?.drop();
    await tgt?.drop();
  });

  it('a member that left the set is not dropped when the target refuses: its capture stays', async () => {
    expect(await triggers('film_actor')).toBe(2);
    await tgt.sql(`CREATE VIEW public.film_actor_names AS SELECT actor_id, film_id FROM mirror.film_actor`);
    const ctx = await open({ exclude: ['audit_*', 'film_actor'] });
    const err = await applySet(ctx, { allowDestructive: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INCOMPATIBLE_TARGET' });
    expect((err as Error).message).toContain('view film_actor_names');
    expect(await triggers('film_actor')).toBe(2);
    expect(await exists('mirror.film_actor')).toBe(true);
    expect(await recorded()).toBe(MEMBER_TABLES.length);
    await tgt.sql(`DROP VIEW public.film_actor_names`);
    const r = await applySet(ctx, { allowDestructive: true });
    expect(r.departedDropped).toEqual(['rental.film_actor']);
    expect(await triggers('film_actor')).toBe(0);
    expect(await exists('mirror.film_actor')).toBe(false);
  });

  it('the drop of the whole set refused for a view on a member: nothing dropped anywhere; then it drops', async () => {
    const members = MEMBER_TABLES.filter((t) => t !== 'film_actor');
    const before = await triggers();
    expect(before).toBe(members.length * 2);
    await tgt.sql(`CREATE VIEW public.film_titles AS SELECT film_id, title FROM mirror.film`);
    const ctx = await open({ exclude: ['audit_*', 'film_actor'] });
    const err = await dropSet(ctx, { allowDestructive: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INCOMPATIBLE_TARGET' });
    expect((err as Error).message).toContain('view film_titles');
    expect((err as Error).message).toContain('Nothing was dropped');
    expect(await triggers()).toBe(before);
    for (const t of members) expect(await exists(`mirror.${t}`), t).toBe(true);
    expect(await recorded()).toBe(members.length);
    // the foreign keys among members are still there too (their drop was in the rolled-back transaction)
    expect(Number((await tgt.sql(`SELECT count(*) AS n FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'mirror' AND c.contype = 'f'`)).rows[0].n)).toBeGreaterThan(0);

    // one member alone, refused the same way
    await expect(dropSet(ctx, { tables: ['film'], allowDestructive: true })).rejects.toMatchObject({ code: 'INCOMPATIBLE_TARGET' });
    expect(await triggers('film')).toBe(2);

    await tgt.sql(`DROP VIEW public.film_titles`);
    const all = await dropSet(ctx, { allowDestructive: true });
    expect(all.members).toHaveLength(members.length);
    expect(await triggers()).toBe(0);
    expect(await recorded()).toBe(0);
  });
});
