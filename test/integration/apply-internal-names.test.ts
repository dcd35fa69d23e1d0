import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, catchUpOn, planFlow, prepareKeySync, syncKeys } from '../../core/target';
import { jobFromFlow } from '../../core/target/flow-job';
import { rowsOf, sourceAndTarget, type Pair } from './target-fixture';

// A source whose columns carry TableSync's own prefix (and the short names our SQL uses as
// aliases): the scan, changed, staging and tracking tables pick names of their own that no user
// column has, so every path (plan, apply, incremental apply, both live paths, deletes) works.
describe('source columns named like our internal columns', () => {
  let t: Pair;
  const cols = `"__tablesync_mark" int, "__tablesync_ordinal" int, n int,
    "__tablesync_tracked" text, "__tablesync_rn" text, "__tablesync_fingerprint" text, "__tablesync_null_fp" timestamptz, "__tablesync_pos" text, ins text`;
  beforeAll(async () => {
    t = await sourceAndTarget('inam');
    await t.src.sql(`CREATE TABLE s (${cols}, PRIMARY KEY ("__tablesync_mark", "__tablesync_ordinal", n))`);
    await t.src.sql(`INSERT INTO s SELECT g, g * 2, g % 5, 't' || g, 'r' || g, 'f' || g, CASE WHEN g % 4 = 0 THEN NULL ELSE '2024-01-01'::timestamptz + g * interval '1 min' END, 'p', 'i' FROM generate_series(1, 200) g`);
    await t.src.sql(`CREATE TABLE f ("__tablesync_fingerprint" int PRIMARY KEY, "__tablesync_mark" text, "__tablesync_ordinal" text, "__tablesync_pos" int)`);
    await t.src.sql(`INSERT INTO f SELECT g, 'm' || g, 'o' || g, g FROM generate_series(1, 50) g`);
  });
  afterAll(async () => { await t.close(); });
  const same = async (src: string, tgt: string) => expect(await rowsOf(t.tgt, tgt, '1, 2, 3')).toEqual(await rowsOf(t.src, src, '1, 2, 3'));

  for (const mode of ['ordinal', 'fingerprint'] as const) {
    it(`composite key of our own names (${mode})`, async () => {
      const table = `tg_${mode}`;
      const flow = () => t.ctx({ name: `inam_${mode}`, source: { table: 's', ...(mode === 'ordinal' ? { ordinalColumn: '__tablesync_null_fp' } : {}) }, target: { table } });
      expect((await planFlow(flow())).rows).toMatchObject({ insert: 200 });
      expect((await applyFlow(flow())).rows).toMatchObject({ insert: 200 });
      await same('s', table);
      await t.src.sql(`UPDATE s SET "__tablesync_tracked" = "__tablesync_tracked" || 'x', "__tablesync_null_fp" = "__tablesync_null_fp" + interval '1 h' WHERE "__tablesync_mark" IN (1, 4)`);
      await t.src.sql(`DELETE FROM s WHERE "__tablesync_mark" = 2`);
      await t.src.sql(`INSERT INTO s VALUES (1000, 1, 1, 'new', 'r', 'f', now(), 'p', 'i')`);
      expect((await planFlow(flow())).rows).toMatchObject({ insert: 1, update: 2, delete: 1, unchanged: 197 });
      expect((await applyFlow(flow())).rows).toMatchObject({ insert: 1, update: 2, delete: 1 });
      await same('s', table);
      // live: by syncKeys and by the one-statement batch (which also deletes)
      await t.src.sql(`UPDATE s SET "__tablesync_rn" = "__tablesync_rn" || 'live' WHERE "__tablesync_mark" = 3`);
      await syncKeys(flow(), [['3', '6', '3']]);
      await t.src.sql(`UPDATE s SET "__tablesync_pos" = "__tablesync_pos" || 'live' WHERE "__tablesync_mark" = 5; DELETE FROM s WHERE "__tablesync_mark" = 1000`);
      const ctx = flow();
      const client = await ctx.targetPool.connect();
      try {
        const sync = await prepareKeySync(client, await jobFromFlow(ctx));
        expect(await sync.run([['5', '10', '0'], ['1000', '1', '1']])).toEqual(['applied', 'deleted']);
      } finally {
        client.release();
      }
      await same('s', table);
      expect((await planFlow(flow())).rows).toMatchObject({ insert: 0, delete: 0 });
      // the live catch-up (an ordinal window where there is an ordinal)
      await t.src.sql(`UPDATE s SET "__tablesync_rn" = "__tablesync_rn" || 'cu', "__tablesync_null_fp" = now() WHERE "__tablesync_mark" = 6`);
      const cctx = flow();
      const cc = await cctx.targetPool.connect();
      try {
        const r = await catchUpOn(cc, await jobFromFlow(cctx));
        expect(r.mode).toBe(mode === 'ordinal' ? 'window' : 'full');
      } finally {
        cc.release();
      }
      await same('s', table);
      // put the source back for the other mode
      await t.src.sql(`INSERT INTO s VALUES (2, 4, 2, 't2', 'r2', 'f2', NULL, 'p', 'i')`);
    });
  }

  it('a single key named like the tracking fingerprint column (fingerprint mode)', async () => {
    const flow = () => t.ctx({ name: 'inam_f', source: { table: 'f' }, target: { table: 'tf' } });
    await applyFlow(flow());
    await t.src.sql(`UPDATE f SET "__tablesync_mark" = 'changed' WHERE "__tablesync_fingerprint" = 7`);
    expect((await applyFlow(flow())).rows).toMatchObject({ update: 1, unchanged: 49 });
    expect(await rowsOf(t.tgt, 'tf')).toEqual(await rowsOf(t.src, 'f'));
    const cols = (await t.tgt.sql(`SELECT attname FROM pg_attribute WHERE attrelid = 'tablesync."rows__inam_f"'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`)).rows.map((r) => r.attname);
    expect(cols).toEqual(['__tablesync_fingerprint', '__tablesync_ordinal', '__tablesync_fingerprint_2']);
  });
});
