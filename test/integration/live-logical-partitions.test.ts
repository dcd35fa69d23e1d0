import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow } from '../../core/target';
import { logicalNames } from '../../core/live';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitForSameRows, watch } from '../support/live';

// A logical stream that publishes a partitioned table through its root (publish_via_partition_root)
// carries no ATTACH or DETACH PARTITION (rows appear or vanish without a change) and no TRUNCATE of
// a single partition (PostgreSQL does not replicate it). The watch re-reads the partitions and
// their files while live and records them with its position, so each of those, live or while it
// was stopped, is a rescan: the target never drifts silently. Ordinal flow: its usual catch-up
// (a window of recent ordinals) would see none of these rows.
describe('logical capture of a partitioned table: attach, detach and TRUNCATE of a partition', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('logpt');
    await t.src.sql(`CREATE TABLE ev (id int, region text, at timestamptz NOT NULL DEFAULT '2024-01-01', v int, PRIMARY KEY (id, region)) PARTITION BY LIST (region)`);
    for (const r of ['eu', 'us', 'ap']) await t.src.sql(`CREATE TABLE ev_${r} PARTITION OF ev FOR VALUES IN ('${r}')`);
    await t.src.sql(`INSERT INTO ev (id, region, v) SELECT g, (ARRAY['eu', 'us', 'ap'])[g % 3 + 1], g FROM generate_series(1, 90) g`);
    // a table with old rows, attached later
    await t.src.sql(`CREATE TABLE ev_sa (LIKE ev INCLUDING DEFAULTS)`);
    await t.src.sql(`INSERT INTO ev_sa (id, region, v) SELECT g, 'sa', g FROM generate_series(1000, 1009) g`);
  });
  afterAll(async () => { await t?.close(); });

  it('live and across a restart, the target equals the source', async () => {
    const ctx = t.ctx({ name: 'logpt', source: { table: 'ev', ordinalColumn: 'at', replication: {} }, target: { table: 'ev_copy' } });
    const same = (what: string) => waitForSameRows(what, t.src.pool, `SELECT id, region, v FROM ev`, t.tgt.pool, `SELECT id, region, v FROM ev_copy`, 30_000);
    await applyFlow(ctx);
    let w = watch(ctx, { partitionCheckMs: 100 });
    try {
      await w.live();
      await t.src.sql(`TRUNCATE ev_eu`);
      await same('after a TRUNCATE of one partition');
      await t.src.sql(`ALTER TABLE ev DETACH PARTITION ev_us`);
      await same('after a DETACH');
      await t.src.sql(`ALTER TABLE ev ATTACH PARTITION ev_sa FOR VALUES IN ('sa')`);
      await same('after an ATTACH of a table with rows');
      await t.src.sql(`INSERT INTO ev (id, region, v) VALUES (2000, 'sa', 1), (2001, 'ap', 1)`);
      await same('the stream goes on');
      expect(w.catchUps.filter((e) => /partitions of the source table changed/.test(e.catchUp?.reason ?? '')).length).toBeGreaterThanOrEqual(3);
      await w.stop();

      // while stopped
      await t.src.sql(`TRUNCATE ev_ap`);
      await t.src.sql(`ALTER TABLE ev ATTACH PARTITION ev_us FOR VALUES IN ('us')`);
      w = watch(ctx, { partitionCheckMs: 100 });
      await w.live();
      expect(w.catchUps[0]?.catchUp?.reason).toMatch(/changed while the watch was stopped/);
      await same('after a restart');
      // a restart with nothing changed streams from the slot, no rescan
      await w.stop();
      await t.src.sql(`UPDATE ev SET v = -1 WHERE id = 1000`);
      w = watch(ctx, { partitionCheckMs: 100 });
      await w.live();
      expect(w.catchUps[0]?.catchUp).toMatchObject({ mode: 'slot', rows: 1 });
      await same('after a quiet restart');
    } finally {
      await w.stop();
      await t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [logicalNames(ctx.flow).slot]).catch(() => {});
    }
  });
});
