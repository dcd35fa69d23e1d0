import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, planFlow, verifyFlow } from '../../core/target';
import { trackingTableSql } from '../../core/state/store';
import { sourceAndTarget, type Pair } from './target-fixture';

// Hand edits of a system-managed target: verify finds exactly the drifted rows (changed, missing,
// extra) by hashing both sides on the servers, and apply --repair rewrites exactly those in the
// apply's one transaction, after which verify finds nothing. Rows the flow does not own are left alone.
// Columns cover the hashing rules: a renamed column, numeric scale, json kept verbatim and json →
// jsonb, timestamp → timestamptz, floats, bytea, intervals, arrays, NULL against ''.
describe('verify and apply --repair', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('vr');
    await t.src.sql(`CREATE TABLE items (
      id int PRIMARY KEY, name text, price numeric(12,4), doc json, meta json, at timestamp, seen timestamptz,
      score float8, raw bytea, span interval, tags text[], note text, keep boolean NOT NULL DEFAULT true,
      modified timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00')`);
    await t.src.sql(`INSERT INTO items (id, name, price, doc, meta, at, seen, score, raw, span, tags, note)
      SELECT g, 'n' || g, g + 0.125, '{"b": 1,  "a": [1.0, 2]}', '{"z": 1, "y": 2.50}', '2024-03-01 10:00:00'::timestamp + g * interval '1 minute',
             '2024-03-01 10:00:00.123456+02', g / 3.0, '\\x00ff', '1 day 2 hours', ARRAY['a', 'b c'], CASE WHEN g % 2 = 0 THEN '' END
        FROM generate_series(1, 300) g`);
  });
  afterAll(async () => { await t.close(); });

  for (const ordinal of [false, true]) {
    const name = ordinal ? 'vr_ord' : 'vr_fp';
    const ctx = () => t.ctx({
      name,
      source: { table: 'items', filter: 'keep', ...(ordinal ? { ordinalColumn: 'modified' } : {}) },
      target: { table: name, columns: { name: { name: 'title' }, price: { type: 'numeric(12,2)' }, meta: { type: 'jsonb' }, at: { type: 'timestamptz' } } },
    });

    it(`finds hand edits exactly and repairs them (${ordinal ? 'ordinal' : 'fingerprint'})`, async () => {
      await applyFlow(ctx());
      const clean = await verifyFlow(ctx());
      expect(clean).toMatchObject({ equal: true, method: 'summary', sourceRows: 300, targetRows: 300, counts: { changed: 0, missing: 0, extra: 0, notOwned: 0 }, unverifiedColumns: [] });

      // By hand, in the target: an update, a delete, a NULL → '' and a row the flow never wrote.
      await t.tgt.sql(`UPDATE ${name} SET title = 'edited by hand' WHERE id = 5`);
      await t.tgt.sql(`UPDATE ${name} SET note = '' WHERE id = 7`);
      await t.tgt.sql(`DELETE FROM ${name} WHERE id = 6`);
      await t.tgt.sql(`INSERT INTO ${name} (id, title) VALUES (1000, 'mine')`);
      // A tracked row the source deleted, then rewritten by hand in the target.
      await t.src.sql(`UPDATE items SET keep = false WHERE id = 9`);
      await t.tgt.sql(`UPDATE ${name} SET title = 'rewritten' WHERE id = 9`);

      const plan = await planFlow(ctx());
      expect(plan.rows).toMatchObject({ insert: 0, update: 0, delete: 1 });

      const drift = await verifyFlow(ctx());
      expect(drift.equal).toBe(false);
      expect(drift.method).toBe('buckets');
      expect(drift.counts).toEqual({ changed: 2, missing: 1, extra: 1, notOwned: 0 });
      expect(drift.changed.map((r) => r.key)).toEqual([{ id: '5' }, { id: '7' }]);
      expect(drift.missing.map((r) => r.key)).toEqual([{ id: '6' }]);
      expect(drift.extra.map((r) => r.key)).toEqual([{ id: '9' }]);
      const five = drift.changed[0]!;
      expect(five.changed).toEqual(['title']);
      expect(five.before).toMatchObject({ title: 'edited by hand' });
      expect(five.after).toMatchObject({ title: 'n5', price: '5.13' });
      expect(drift.changed[1]!).toMatchObject({ changed: ['note'], before: { note: '' }, after: { note: null } });
      expect(drift.missing[0]!.after).toMatchObject({ id: '6', title: 'n6' });
      expect(drift.extra[0]!.before).toMatchObject({ title: 'rewritten' });

      // A plain apply does not see the hand edits (only the source's delete)…
      const plain = await applyFlow(ctx());
      expect(plain.rows).toMatchObject({ insert: 0, update: 0, delete: 1 });
      expect(plain.repaired).toBeUndefined();
      expect((await verifyFlow(ctx())).counts).toEqual({ changed: 2, missing: 1, extra: 0, notOwned: 0 });
      // …apply --repair rewrites exactly the drifted rows.
      await t.src.sql(`UPDATE items SET keep = true WHERE id = 9`);
      await t.tgt.sql(`DELETE FROM ${name} WHERE id = 9`);
      await t.src.sql(`UPDATE items SET keep = false WHERE id = 11`);
      await t.tgt.sql(`UPDATE ${name} SET score = 0 WHERE id = 11`);
      const repaired = await applyFlow(ctx(), { repair: true });
      expect(repaired.repaired).toEqual({ changed: 2, missing: 2, extra: 1 });
      // 9 is new again for the source (an insert); 6 reinserted; 5, 7 rewritten; 11 deleted.
      expect(repaired.rows).toMatchObject({ insert: 2, update: 2, delete: 1 });
      const after = await verifyFlow(ctx());
      expect(after).toMatchObject({ equal: true, counts: { changed: 0, missing: 0, extra: 0 } });
      expect((await t.tgt.sql(`SELECT title FROM ${name} WHERE id IN (5, 1000) ORDER BY id`)).rows).toEqual([{ title: 'n5' }, { title: 'mine' }]);
      expect((await applyFlow(ctx(), { repair: true })).repaired).toEqual({ changed: 0, missing: 0, extra: 0 });
      await t.src.sql(`UPDATE items SET keep = true WHERE id = 11`);
      await t.tgt.sql(`DELETE FROM ${name} WHERE id = 1000`);
    });
  }

  it('a type only the target has: the source text is sent and cast on the target, as apply casts it', async () => {
    await t.src.sql(`CREATE TABLE odd (id int PRIMARY KEY, pair text, weights real[])`);
    await t.src.sql(`INSERT INTO odd SELECT g, '(' || (g / 4.0)::numeric(10,2) || ',' || g || ')', ARRAY[g / 3.0, 0.1]::real[] FROM generate_series(1, 40) g`);
    // A composite type of the target database only (the source server has no such type).
    await t.tgt.sql(`CREATE TYPE tpair AS (a numeric(10,1), b int)`);
    const ctx = () => t.ctx({ name: 'vr_odd', source: { table: 'odd' }, target: { table: 'odd', columns: { pair: { type: 'tpair' } } } });
    await applyFlow(ctx());
    // '(0.25,1)' became (0.3,1) in the target: the source's text differs from the target's, yet nothing drifted.
    expect((await t.tgt.sql(`SELECT pair::text FROM odd WHERE id = 1`)).rows).toEqual([{ pair: '(0.3,1)' }]);
    const clean = await verifyFlow(ctx());
    expect(clean).toMatchObject({ equal: true, method: 'rows', sourceRows: 40, targetRows: 40, unverifiedColumns: [] });
    expect(clean.warnings.join(' ')).toMatch(/column "pair" \(tpair\)/);
    await t.tgt.sql(`UPDATE odd SET pair = '(9,9)' WHERE id = 3; UPDATE odd SET weights = '{1,2}' WHERE id = 4; DELETE FROM odd WHERE id = 5`);
    const drift = await verifyFlow(ctx());
    expect(drift.counts).toEqual({ changed: 2, missing: 1, extra: 0, notOwned: 0 });
    expect(drift.changed.map((r) => [r.key, r.changed])).toEqual([[{ id: '3' }, ['pair']], [{ id: '4' }, ['weights']]]);
    expect(drift.changed[0]!).toMatchObject({ before: { pair: '(9.0,9)' }, after: { pair: '(0.8,3)' } });
    expect((await applyFlow(ctx(), { repair: true })).repaired).toEqual({ changed: 2, missing: 1, extra: 0 });
    expect((await verifyFlow(ctx())).equal).toBe(true);
  });

  it('a flow not applied yet is refused', async () => {
    const never = t.ctx({ name: 'vr_never', source: { table: 'items' }, target: { table: 'vr_never' } });
    await expect(verifyFlow(never)).rejects.toMatchObject({ code: 'PLAN_STALE', message: expect.stringContaining('run apply first') });
  });

  it('source rows whose key is held by a row the flow did not write are not owned, not drift', async () => {
    await t.tgt.sql(`CREATE TABLE mine (id int PRIMARY KEY, title text, price numeric(12,2), doc json, meta jsonb, at timestamptz, seen timestamptz, score float8, raw bytea, span interval, tags text[], note text, keep boolean, modified timestamptz)`);
    const ctx = () => t.ctx({ name: 'vr_user', source: { table: 'items', filter: 'id <= 10' }, target: { table: 'mine', managedBy: 'user', columns: { name: { name: 'title' } } } });
    await applyFlow(ctx());
    expect((await verifyFlow(ctx())).equal).toBe(true);
    // Tracking forgets key 3 (as if the user had written it), and the user edits it.
    await t.tgt.sql(`DELETE FROM ${trackingTableSql('vr_user')} WHERE id = 3`);
    await t.tgt.sql(`UPDATE mine SET title = 'yours' WHERE id = 3`);
    const r = await verifyFlow(ctx());
    expect(r).toMatchObject({ equal: true, counts: { changed: 0, missing: 0, extra: 0, notOwned: 1 } });
    expect(r.notOwned.map((x) => x.key)).toEqual([{ id: '3' }]);
  });
});
