import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, planFlow } from '../../core/target';
import { rowsOf, sourceAndTarget, type Pair } from './target-fixture';

// Switching a flow between fingerprints and an ordinal column (or between ordinal columns of other
// types) re-checks every row once without rewriting unchanged ones, and keeps ownership: rows the
// flow wrote before are still deleted when the source loses them, foreign rows still left alone.
describe('switching change detection', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget();
    await t.src.sql(`CREATE TABLE s (id int PRIMARY KEY, v text, at timestamptz NOT NULL DEFAULT '2024-01-01', n bigint NOT NULL DEFAULT 1)`);
    await t.src.sql(`INSERT INTO s (id, v) SELECT g, 'v' || g FROM generate_series(1, 50) g`);
  });
  afterAll(async () => { await t.close(); });
  const flow = (ordinalColumn?: string) => t.ctx({ name: 'sw', source: { table: 's', ...(ordinalColumn ? { ordinalColumn } : {}) }, target: { table: 'sw' } });

  it('fingerprint → timestamptz ordinal → bigint ordinal → fingerprint', async () => {
    await applyFlow(flow());
    await t.tgt.sql(`INSERT INTO sw VALUES (999, 'foreign', now(), 1)`);
    const xmin = async () => (await t.tgt.sql(`SELECT sum(xmin::text::bigint) AS x FROM sw WHERE id < 999`)).rows[0].x;
    const before = await xmin();
    for (const ord of ['at', 'n', undefined]) {
      const plan = await planFlow(flow(ord));
      expect(plan.steps.map((s) => s.summary).join('; ')).not.toContain('restart row tracking');
      expect(plan.rows).toMatchObject({ insert: 0, update: 50, delete: 0, foreign: 1 });
      const r = await applyFlow(flow(ord));
      expect(r.rows).toMatchObject({ insert: 0, update: 0, delete: 0 });
      expect((await planFlow(flow(ord))).rows).toMatchObject({ update: 0, unchanged: 50 });
    }
    expect(await xmin()).toBe(before);
    await t.src.sql(`DELETE FROM s WHERE id <= 5`);
    expect((await applyFlow(flow('at'))).rows.delete).toBe(5);
    expect((await rowsOf(t.tgt, 'sw')).map((r) => r.id)).toEqual([...Array.from({ length: 45 }, (_, i) => String(i + 6)), '999']);
  });
});
