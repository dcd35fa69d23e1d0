import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, planFlow } from '../../core/target';
import { rowsOf, sourceAndTarget, type Pair } from './target-fixture';

// The first apply creates the table and loads every row; a second apply with nothing changed does
// nothing; changes, inserts and deletes in the source come across exactly.
describe('apply converges a system-managed target', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget();
    await t.src.sql(`CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(12,2), modified timestamptz NOT NULL DEFAULT now())`);
    await t.src.sql(`INSERT INTO items SELECT g, 'item ' || g, g * 1.5, '2024-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 500) g`);
  });
  afterAll(async () => { await t.close(); });

  for (const ordinal of [true, false]) {
    it(`converges with ${ordinal ? 'an ordinal column' : 'fingerprints'}`, async () => {
      const name = ordinal ? 'items_ord' : 'items_fp';
      const ctx = t.ctx({ name, source: { table: 'items', ...(ordinal ? { ordinalColumn: 'modified' } : {}) }, target: { table: name } });
      const plan = await planFlow(ctx);
      expect(plan.blockers).toEqual([]);
      expect(plan.rows).toMatchObject({ insert: 500, update: 0, delete: 0, unchanged: 0 });
      expect(plan.steps.map((s) => s.kind)).toEqual(ordinal ? ['create-schema', 'create-table', 'state', 'state'] : ['create-table', 'state', 'state']);
      const r1 = await applyFlow(ctx, { expectedFingerprint: plan.fingerprint });
      expect(r1.rows.insert).toBe(500);
      expect(r1.replanned).toBe(false);
      expect(await rowsOf(t.tgt, name)).toEqual(await rowsOf(t.src, `items`));

      const again = await planFlow(ctx);
      expect(again.steps).toEqual([]);
      expect(again.rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 500, foreign: 0 });
      const r2 = await applyFlow(ctx);
      expect(r2.rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 500 });

      await t.src.sql(`UPDATE items SET name = name || ' v2', modified = modified + interval '1 day' WHERE id <= 10`);
      await t.src.sql(`DELETE FROM items WHERE id BETWEEN 11 AND 15`);
      await t.src.sql(`INSERT INTO items SELECT g, 'new ' || g, 1, now() FROM generate_series(1001, 1003) g`);
      const p3 = await planFlow(ctx);
      expect(p3.rows).toMatchObject({ insert: 3, update: 10, delete: 5, unchanged: 485 });
      expect(p3.samples.filter((s) => s.op === 'update')[0]?.changed).toContain('name');
      const r3 = await applyFlow(ctx);
      expect(r3.rows).toMatchObject({ insert: 3, update: 10, delete: 5 });
      expect(await rowsOf(t.tgt, name)).toEqual(await rowsOf(t.src, `items`));
      // restore for the next mode
      await t.src.sql(`DELETE FROM items WHERE id > 1000`);
      await t.src.sql(`INSERT INTO items SELECT g, 'item ' || g, g * 1.5, '2024-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(11, 15) g`);
      await t.src.sql(`UPDATE items SET name = 'item ' || id, modified = '2024-01-01'::timestamptz + id * interval '1 minute' WHERE id <= 10`);
    });
  }
});
