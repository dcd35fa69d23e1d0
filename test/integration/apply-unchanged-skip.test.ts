import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplyProgress } from '../../core/api/model';
import { applyFlow, planFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';

// A re-sync with nothing changed scans no keys at all (the summaries of source and tracking match);
// any change makes them differ, and the key scan then finds every insert, update, delete and filter
// move exactly, with composite keys of awkward text. An overridden key type (hashes differently)
// always scans, and stays correct.
describe('skipping the scan when nothing changed', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget();
    await t.src.sql(`CREATE TABLE k (a text, b int, v text, at timestamptz NOT NULL DEFAULT '2024-01-01', keep boolean NOT NULL DEFAULT true, PRIMARY KEY (a, b))`);
    await t.src.sql(`INSERT INTO k (a, b, v) SELECT (ARRAY[E'tab\\there', 'back\\\\slash', 'naïve "q"', ''])[g % 4 + 1] || (g / 4), g, 'v' || g FROM generate_series(1, 4000) g`);
  });
  afterAll(async () => { await t.close(); });

  const scannedBy = async (fn: (onProgress: (p: ApplyProgress) => void) => Promise<unknown>) => {
    let max = 0;
    await fn((p) => { if (p.phase === 'scanning') max = Math.max(max, p.rowsDone); });
    return max;
  };
  const same = async (table: string) => {
    const q = `SELECT md5(string_agg(a || '|' || b || '|' || v, ',' ORDER BY a, b)) AS h, count(*) AS n FROM`;
    expect((await t.tgt.sql(`${q} ${table}`)).rows[0]).toEqual((await t.src.sql(`${q} k WHERE keep`)).rows[0]);
  };

  for (const ordinal of [true, false]) {
    it(`finds every change (${ordinal ? 'ordinal' : 'fingerprint'})`, async () => {
      const table = ordinal ? 'kb_o' : 'kb_f';
      const ctx = () => t.ctx({ name: table, source: { table: 'k', filter: 'keep', ...(ordinal ? { ordinalColumn: 'at' } : {}) }, target: { table } });
      // The initial load scans nothing either: the rows go straight in (core/target/initial-load.ts).
      let first: Awaited<ReturnType<typeof applyFlow>> | undefined;
      expect(await scannedBy(async (onProgress) => { first = await applyFlow(ctx(), { onProgress }); })).toBe(0);
      expect(first!.rows.insert).toBe(4000);
      expect(await scannedBy((onProgress) => applyFlow(ctx(), { onProgress }))).toBe(0);
      await t.src.sql(`UPDATE k SET v = v || '!', at = at + interval '1 s' WHERE b % 500 = 0`);
      await t.src.sql(`DELETE FROM k WHERE b IN (7, 8)`);
      await t.src.sql(`UPDATE k SET keep = false WHERE b = 9`);
      await t.src.sql(`INSERT INTO k (a, b, v) VALUES (E'new\\nline', 1, 'n')`);
      const plan = await planFlow(ctx());
      expect(plan.rows).toMatchObject({ insert: 1, update: 8, delete: 3, unchanged: 4000 - 3 - 8 });
      const scanned = await scannedBy(async (onProgress) => {
        const r = await applyFlow(ctx(), { onProgress });
        expect(r.rows).toMatchObject({ insert: 1, update: 8, delete: 3 });
      });
      expect(scanned).toBe(4000 - 3 + 1);
      await same(table);
      expect(await scannedBy((onProgress) => applyFlow(ctx(), { onProgress }))).toBe(0);
      // put the source back for the other mode
      await t.src.sql(`DELETE FROM k WHERE b = 1 AND a = E'new\\nline'; UPDATE k SET keep = true WHERE b = 9; INSERT INTO k (a, b, v) SELECT (ARRAY[E'tab\\there', 'back\\\\slash', 'naïve "q"', ''])[g % 4 + 1] || (g / 4), g, 'v' || g FROM generate_series(7, 8) g`);
    });
  }

  it('an overridden key type scans everything and stays exact', async () => {
    const ctx = () => t.ctx({ name: 'kb_cast', source: { table: 'k', filter: 'keep' }, target: { table: 'kb_cast', columns: { b: { type: 'numeric(10,2)' } } } });
    await applyFlow(ctx());
    expect(await scannedBy((onProgress) => applyFlow(ctx(), { onProgress }))).toBe(4000);
    await t.src.sql(`UPDATE k SET v = 'x' WHERE b = 10`);
    expect((await applyFlow(ctx())).rows).toMatchObject({ update: 1, unchanged: 3999 });
  });
});
