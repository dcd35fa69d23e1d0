import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, planFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';

// Changing the filter moves rows in (inserted) and out (deleted: they no longer pass it), without
// touching rows that stay.
describe('filter changes move rows in and out', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget();
    await t.src.sql(`CREATE TABLE p (id int PRIMARY KEY, price int, at timestamptz NOT NULL DEFAULT '2024-01-01')`);
    await t.src.sql(`INSERT INTO p SELECT g, g * 10 FROM generate_series(1, 30) g`);
  });
  afterAll(async () => { await t.close(); });

  const ids = async () => (await t.tgt.sql(`SELECT array_agg(id ORDER BY id)::text AS ids FROM pf`)).rows[0].ids as string;

  for (const ordinal of [true, false]) {
    it(`with ${ordinal ? 'an ordinal' : 'fingerprints'}`, async () => {
      const flow = (filter: string) => t.ctx({ name: `pf_${ordinal}`, source: { table: 'p', filter, ...(ordinal ? { ordinalColumn: 'at' } : {}) }, target: { table: 'pf' } });
      await applyFlow(flow('price > 200'));
      expect(await ids()).toBe('{21,22,23,24,25,26,27,28,29,30}');
      const out = await planFlow(flow('price > 250'));
      expect(out.rows).toMatchObject({ insert: 0, update: 0, delete: 5, unchanged: 5 });
      await applyFlow(flow('price > 250'));
      expect(await ids()).toBe('{26,27,28,29,30}');
      const back = await planFlow(flow('price > 240 AND id <> 30'));
      expect(back.rows).toMatchObject({ insert: 1, delete: 1, unchanged: 4 });
      await applyFlow(flow('price > 240 AND id <> 30'));
      expect(await ids()).toBe('{25,26,27,28,29}');
      await t.tgt.sql('DROP TABLE pf');
      await t.tgt.sql(`DELETE FROM tablesync.flows`);
    });
  }
});
