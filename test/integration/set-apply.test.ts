import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { connectionResolver } from '../../core/flow/resolver';
import { applySet, dropSet, openSet, parseSet, planSet, verifySet, type SetContext } from '../../core/set';
import '../../core/live';
import { createRentalSchema, MEMBER_TABLES, ORDER, rentalSet, tableDigest } from './set-fixture';

// A whole schema as one set: expansion with refusals and defaults, one plan, one apply in one
// target transaction with the foreign keys among members (a self-reference and a cycle), changes
// across several tables, members leaving the set, drop of one member and of the set.
describe('sets: plan, apply, drop a whole schema', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  const opened: SetContext[] = [];
  const open = async (over: Record<string, unknown> = {}) => {
    const ctx = await openSet(parseSet(rentalSet(src.url, tgt.url, over)), connectionResolver());
    opened.push(ctx);
    return ctx;
  };
  const expectEqual = async (tables = MEMBER_TABLES) => {
    for (const t of tables) {
      expect(await tableDigest(tgt, `mirror.${t}`, ORDER[t]!), t).toEqual(await tableDigest(src, `public.${t}`, ORDER[t]!));
    }
  };
  beforeAll(async () => {
    src = await freshDatabase('sets');
    tgt = await freshDatabase('sett');
    await createRentalSchema(src);
  });
  afterAll(async () => {
    for (const c of opened) await c.close();
    await src?.drop();
    await tgt?.drop();
  });

  it('plans the set: members with the defaults applied, refused tables with reasons; writes nothing', async () => {
    const ctx = await open();
    const plan = await planSet(ctx);
    expect(plan.members.map((m) => m.table)).toEqual(MEMBER_TABLES);
    expect(plan.members.map((m) => m.flow)).toEqual(MEMBER_TABLES.map((t) => `rental.${t}`));
    expect(plan.refused).toEqual([
      { table: 'film_list', kind: 'view', reason: expect.stringMatching(/views cannot be sources/) },
      { table: 'notes_nokey', kind: 'table', reason: expect.stringMatching(/primary key/) },
      { table: 'payment_2024', kind: 'table', reason: expect.stringMatching(/partition of "payment", which is a member/) },
      { table: 'payment_2025', kind: 'table', reason: expect.stringMatching(/partition of "payment", which is a member/) },
    ]);
    expect(plan.refused.map((r) => r.table)).not.toContain('audit_log');
    const film = plan.members.find((m) => m.table === 'film')!;
    expect(film.applied).toEqual(expect.arrayContaining(['ordinalColumn "last_update" (set default)', 'column "rating": mpaa_rating → text (set typeOverrides)']));
    expect(film.plan!.rowMode).toBe('ordinal');
    expect(film.plan!.columns.find((c) => c.name === 'rating')!.type).toBe('text');
    // payment has no last_update: fingerprints
    expect(plan.members.find((m) => m.table === 'payment')!.plan!.rowMode).toBe('fingerprint');
    expect(plan.blockers).toEqual([]);
    expect(plan.totals.insert).toBe(Number((await src.sql(`SELECT (SELECT count(*) FROM language) + (SELECT count(*) FROM film) + (SELECT count(*) FROM actor) + (SELECT count(*) FROM film_actor) + (SELECT count(*) FROM store) + (SELECT count(*) FROM staff) + (SELECT count(*) FROM customer) + (SELECT count(*) FROM payment) AS n`)).rows[0].n));
    // the foreign keys among members, the self-reference and the cycle included, are added after the load
    const added = plan.steps.filter((s) => s.summary.startsWith('add foreign key')).map((s) => s.summary);
    expect(added).toHaveLength(8);
    expect(added.join('\n')).toMatch(/"film" \(sequel_of\) → "film"/);
    expect(added.join('\n')).toMatch(/"store" \(manager_staff_id\) → "staff"/);
    expect(added.join('\n')).toMatch(/"staff" \(store_id\) → "store"/);
    const written = await tgt.sql(`SELECT to_regnamespace('mirror') AS m, to_regnamespace('tablesync') AS s`);
    expect(written.rows[0]).toEqual({ m: null, s: null });
  });

  it('strict mode makes the refusals fatal, naming each table', async () => {
    const ctx = await open({ strict: true });
    await expect(planSet(ctx)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/"film_list" \(views cannot.*"notes_nokey".*"payment_2024"/) });
  });

  it('an override naming a table outside the set is an error', async () => {
    const ctx = await open({ overrides: { flim: { filter: 'true' } } });
    await expect(planSet(ctx)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/overrides."flim"/) });
  });

  it('a cancel during the first apply\'s initial loads leaves the target untouched', async () => {
    const ctx = await open();
    const ac = new AbortController();
    const loaded: string[] = [];
    await expect(applySet(ctx, { signal: ac.signal, onProgress: (p) => {
      if (p.table && p.member?.phase === 'merging' && !loaded.includes(p.table)) loaded.push(p.table);
      // members before it (actor … film_actor) are loaded and keyed inside the one transaction
      if (p.table === 'language' && p.member?.phase === 'loading') ac.abort();
    } })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(loaded).toEqual(['actor', 'customer', 'film', 'film_actor']);
    expect((await tgt.sql(`SELECT to_regnamespace('mirror') AS m, to_regnamespace('tablesync') AS s`)).rows[0]).toEqual({ m: null, s: null });
  });

  it('applies the whole set in one transaction: every member equals its source, foreign keys valid', async () => {
    const ctx = await open();
    const phases: string[] = [];
    const memberPhases = new Map<string, Set<string>>();
    const r = await applySet(ctx, { onProgress: (p) => {
      if (phases.at(-1) !== p.phase) phases.push(p.phase);
      if (p.table && p.member) memberPhases.set(p.table, (memberPhases.get(p.table) ?? new Set()).add(p.member.phase));
    } });
    expect(r.members.map((m) => m.table)).toEqual(MEMBER_TABLES);
    // every member's table is created by this apply: the direct initial load (no scan, no diff), per table
    for (const t of MEMBER_TABLES) {
      expect([...memberPhases.get(t)!], t).toContain('loading');
      expect([...memberPhases.get(t)!], t).not.toContain('scanning');
    }
    expect(r.totals.insert).toBe(Number((await src.sql(`SELECT (SELECT count(*) FROM language) + (SELECT count(*) FROM film) + (SELECT count(*) FROM actor) + (SELECT count(*) FROM film_actor) + (SELECT count(*) FROM store) + (SELECT count(*) FROM staff) + (SELECT count(*) FROM customer) + (SELECT count(*) FROM payment) AS n`)).rows[0].n));
    expect(r.foreignKeysAdded).toBe(8);
    expect(phases).toEqual(['locking', 'members', 'foreign-keys', 'members', 'committing', 'done']);
    await expectEqual();
    const fks = (await tgt.sql(`SELECT conname, convalidated::text AS v, condeferrable::text AS d FROM pg_constraint WHERE contype = 'f' AND connamespace = 'mirror'::regnamespace ORDER BY 1`)).rows;
    expect(fks).toHaveLength(8);
    expect(fks.every((f) => f.v === 'true' && f.d === 'true')).toBe(true);
    // they hold: a film_actor row pointing at no film is refused
    await expect(tgt.sql(`INSERT INTO mirror.film_actor (actor_id, film_id, last_update) VALUES (1, 999999, now())`)).rejects.toThrow(/foreign key/);
    // the partitioned parent's rows came in through the parent
    expect((await tgt.sql(`SELECT count(*) AS n FROM mirror.payment`)).rows[0].n).toBe((await src.sql(`SELECT count(*) AS n FROM payment`)).rows[0].n);
    // a second plan shows no change in any member, and a second apply finds nothing to do
    const replan = await planSet(ctx);
    expect(replan.totals).toMatchObject({ insert: 0, update: 0, delete: 0 });
    for (const m of replan.members) expect(m.plan!.rows, m.table).toMatchObject({ insert: 0, update: 0, delete: 0 });
    const again = await applySet(ctx);
    expect(again.totals).toMatchObject({ insert: 0, update: 0, delete: 0 });
    expect(again.foreignKeysAdded).toBe(0);
  });

  it('carries changes across several tables (new parents and children, deletes through the FK graph, the cycle)', async () => {
    await src.sql(`
      BEGIN;
      INSERT INTO language VALUES (6, 'lang 6', now());
      INSERT INTO film VALUES (1000, 'new film', 6, 'R', 1, now());
      INSERT INTO film_actor VALUES (1, 1000, now());
      DELETE FROM film_actor WHERE film_id = 2;
      UPDATE film SET sequel_of = NULL, last_update = now() WHERE sequel_of = 2;
      DELETE FROM film WHERE film_id = 2;
      INSERT INTO store VALUES (4, 4, now());
      INSERT INTO staff VALUES (4, 4, 'staff 4', now());
      UPDATE customer SET name = 'renamed', last_update = now() WHERE customer_id <= 5;
      DELETE FROM payment WHERE payment_id <= 10;
      COMMIT;
    `);
    const ctx = await open();
    const plan = await planSet(ctx);
    expect(plan.totals).toMatchObject({ insert: 5, delete: 1 + (plan.members.find((m) => m.table === 'film_actor')!.plan!.rows.delete) + 10 });
    const r = await applySet(ctx);
    expect(r.totals.insert).toBe(5);
    await expectEqual();
  });

  it('verifies every member; a hand edit of the target is found and repaired', async () => {
    const ctx = await open();
    const v0 = await verifySet(ctx);
    expect(v0.members.filter((m) => !m.result?.equal).map((m) => JSON.stringify(m.error ?? m.result?.counts))).toEqual([]);
    await tgt.sql(`UPDATE mirror.actor SET name = 'hand edited' WHERE actor_id = 3`);
    const v = await verifySet(ctx);
    expect(v.equal).toBe(false);
    expect(v.members.filter((m) => !m.result?.equal).map((m) => m.table)).toEqual(['actor']);
    expect(v.members.find((m) => m.table === 'actor')!.result!.counts.changed).toBe(1);
    const r = await applySet(ctx, { repair: true });
    expect(r.members.find((m) => m.table === 'actor')!.repaired).toMatchObject({ changed: 1 });
    expect((await verifySet(ctx)).equal).toBe(true);
  });

  it('a failing member rolls back the whole set: nothing of the others is written', async () => {
    await src.sql(`INSERT INTO actor VALUES (5000, 'new actor', now()); UPDATE language SET name = 'changed', last_update = now() WHERE language_id = 1`);
    // the target's own rule makes customer's apply fail after other members have moved rows
    await tgt.sql(`ALTER TABLE mirror.customer ADD CONSTRAINT no_renamed CHECK (name <> 'renamed twice') NOT VALID`);
    await src.sql(`UPDATE customer SET name = 'renamed twice', last_update = now() WHERE customer_id = 7`);
    const ctx = await open();
    await expect(applySet(ctx)).rejects.toMatchObject({ message: expect.stringMatching(/customer/), detail: expect.objectContaining({ target: expect.stringMatching(/unchanged/) }) });
    expect((await tgt.sql(`SELECT count(*) AS n FROM mirror.actor WHERE actor_id = 5000`)).rows[0].n).toBe('0');
    expect((await tgt.sql(`SELECT name FROM mirror.language WHERE language_id = 1`)).rows[0].name).toBe('lang 1');
    await tgt.sql(`ALTER TABLE mirror.customer DROP CONSTRAINT no_renamed`);
    await applySet(ctx);
    await expectEqual();
  });

  it('a cancel stops the whole set with the target unchanged', async () => {
    await src.sql(`INSERT INTO actor VALUES (5001, 'another', now())`);
    const ctx = await open();
    const ac = new AbortController();
    await expect(applySet(ctx, { signal: ac.signal, onProgress: (p) => { if (p.table === 'language' && p.member?.phase === 'scanning') ac.abort(); } })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect((await tgt.sql(`SELECT count(*) AS n FROM mirror.actor WHERE actor_id = 5001`)).rows[0].n).toBe('0');
  });

  it('a table that leaves the set is kept unless destructive steps are allowed, then dropped', async () => {
    const ctx = await open({ exclude: ['audit_*', 'film_actor'] });
    const plan = await planSet(ctx);
    expect(plan.departed).toEqual(['rental.film_actor']);
    expect(plan.steps.filter((s) => s.summary.startsWith('drop foreign key')).length).toBe(2);
    const kept = await applySet(ctx);
    expect(kept.departedKept).toEqual(['rental.film_actor']);
    expect((await tgt.sql(`SELECT to_regclass('mirror.film_actor') IS NOT NULL AS e`)).rows[0].e).toBe('t');
    expect((await tgt.sql(`SELECT count(*) AS n FROM pg_constraint WHERE conrelid = 'mirror.film_actor'::regclass AND contype = 'f'`)).rows[0].n).toBe('0');
    const dropped = await applySet(ctx, { allowDestructive: true });
    expect(dropped.departedDropped).toEqual(['rental.film_actor']);
    expect((await tgt.sql(`SELECT to_regclass('mirror.film_actor') AS e`)).rows[0].e).toBeNull();
    expect((await tgt.sql(`SELECT count(*) AS n FROM tablesync.flows WHERE flow = 'rental.film_actor'`)).rows[0].n).toBe('0');
    // back in the set: loaded again with its keys
    const back = await open();
    await applySet(back);
    await expectEqual();
  });

  it('drops one member (its foreign keys with it), then the whole set', async () => {
    const ctx = await open();
    await expect(dropSet(ctx, { tables: ['film'] })).rejects.toMatchObject({ code: 'DESTRUCTIVE_NOT_ALLOWED' });
    expect((await tgt.sql(`SELECT to_regclass('mirror.film') IS NOT NULL AS e`)).rows[0].e).toBe('t');
    const one = await dropSet(ctx, { tables: ['film'], allowDestructive: true });
    expect(one.members).toEqual(['rental.film']);
    expect((await tgt.sql(`SELECT to_regclass('mirror.film') AS e`)).rows[0].e).toBeNull();
    expect((await tgt.sql(`SELECT to_regclass('mirror.film_actor') IS NOT NULL AS e`)).rows[0].e).toBe('t');
    const left = (await tgt.sql(`SELECT flow FROM tablesync.flows ORDER BY 1`)).rows.map((r) => r.flow);
    expect(left).toEqual(MEMBER_TABLES.filter((t) => t !== 'film').map((t) => `rental.${t}`));
    // capture triggers of the member are gone from the source too (none were created here: nothing to find)
    await expect(dropSet(ctx, { tables: ['nope'] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const all = await dropSet(ctx, { allowDestructive: true });
    expect(all.members).toHaveLength(MEMBER_TABLES.length); // film is still a member of the set file: nothing left to drop for it
    expect((await tgt.sql(`SELECT count(*) AS n FROM pg_class WHERE relnamespace = 'mirror'::regnamespace AND relkind IN ('r', 'p')`)).rows[0].n).toBe('0');
    expect((await tgt.sql(`SELECT count(*) AS n FROM tablesync.flows`)).rows[0].n).toBe('0');
  });
});
