import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitForSameRows, watch } from '../support/live';

// Trigger capture of a partitioned table, with an ordinal: a restart's usual catch-up reads a
// window of recent ordinals, and a partition attached (its rows keep their old ordinals) or
// detached (its rows vanish, no trigger fires) while the watch was stopped is outside it. The
// watch records the partitions it last matched, so such a restart is a full rescan instead.
describe('trigger capture: partitions attached or detached while the watch was stopped', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('ptr');
    await t.src.sql(`CREATE TABLE ev (id int, region text, at timestamptz NOT NULL DEFAULT '2024-01-01', v int, PRIMARY KEY (id, region)) PARTITION BY LIST (region)`);
    for (const r of ['eu', 'us']) await t.src.sql(`CREATE TABLE ev_${r} PARTITION OF ev FOR VALUES IN ('${r}')`);
    await t.src.sql(`INSERT INTO ev (id, region, v) SELECT g, (ARRAY['eu', 'us'])[g % 2 + 1], g FROM generate_series(1, 40) g`);
    await t.src.sql(`CREATE TABLE ev_sa (LIKE ev INCLUDING DEFAULTS)`);
    await t.src.sql(`INSERT INTO ev_sa (id, region, v) SELECT g, 'sa', g FROM generate_series(1000, 1018) g`);
  });
  afterAll(async () => { await t?.close(); });

  it('a restart after ATTACH and DETACH rescans; a quiet one does not', async () => {
    const ctx = t.ctx({ name: 'ptr', source: { table: 'ev', ordinalColumn: 'at', notification: {} }, target: { table: 'ev_copy' } });
    const same = (what: string) => waitForSameRows(what, t.src.pool, `SELECT id, region, v FROM ev`, t.tgt.pool, `SELECT id, region, v FROM ev_copy`, 30_000);
    await applyFlow(ctx);
    let w = watch(ctx);
    try {
      await w.live();
      // a recent ordinal, so the window is "now" and the attached rows (2024) are far below it
      await t.src.sql(`UPDATE ev SET at = now(), v = v + 1 WHERE id = 1`);
      await same('live');
      await w.stop();
      // as many rows below the window leave as arrive (19: ev_us's 20 less id 1, now in the window):
      // a count of the rows below the window cannot tell
      await t.src.sql(`ALTER TABLE ev ATTACH PARTITION ev_sa FOR VALUES IN ('sa')`);
      await t.src.sql(`ALTER TABLE ev DETACH PARTITION ev_us`);
      w = watch(ctx);
      await w.live();
      expect(w.catchUps[0]?.catchUp).toMatchObject({ mode: 'full', reason: expect.stringMatching(/partitions of the source table changed while the watch was stopped/) });
      await same('after the restart');
      await w.stop();
      await t.src.sql(`UPDATE ev SET at = now(), v = v + 1 WHERE id = 2`);
      w = watch(ctx);
      await w.live();
      expect(w.catchUps[0]?.catchUp?.mode).not.toBe('full');
      await same('after a quiet restart');
    } finally {
      await w.stop();
    }
  });
});
