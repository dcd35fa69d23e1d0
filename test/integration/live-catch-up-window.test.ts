import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeEvent } from '../../core/api/model';
import { applyFlow, type FlowContext } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { watch, waitFor, waitForSameRows } from '../support/live';

// After a reconnect, a watch with an ordinal column reads only the rows past what it tracked (plus a
// bounded window for late commits, below its 64th highest tracked ordinal), keeps the per-key comparison, and counts what is below the
// window: a delete down there sends it to the full scan, and it says why. Without an ordinal the
// catch-up is the full scan, and it says that too.
describe('catch-up in proportion to the changes', () => {
  let t: Pair;
  let ctx: FlowContext;
  const FILTERED = `SELECT id, grp, payload, modified FROM events WHERE grp <> 3`;

  const catchUps = (events: ChangeEvent[]) => events.map((e) => e.catchUp!);

  /** Watch until live, return the catch-up it reported, stop. */
  const catchUpOnce = async () => {
    const w = watch(ctx);
    try {
      await w.live();
      const live = w.statuses.find((s) => s.state === 'live')!;
      expect(live.catchUp).toBeDefined();
      expect(catchUps(w.catchUps)).toHaveLength(1);
      return catchUps(w.catchUps)[0]!;
    } finally {
      await w.stop();
    }
  };

  beforeAll(async () => {
    t = await sourceAndTarget('cu_win');
    // ordinals 1000 apart: the integer window (10,000) below the top covers the newest ~10 rows
    await t.src.sql(`CREATE TABLE events (id int PRIMARY KEY, grp int NOT NULL, payload text, modified bigint NOT NULL)`);
    await t.src.sql(`INSERT INTO events SELECT g, g % 10, 'p' || g, g * 1000 FROM generate_series(1, 500) g`);
    ctx = t.ctx({ name: 'cu_win', source: { table: 'events', ordinalColumn: 'modified', filter: 'grp <> 3', notification: {} }, target: { table: 'events' } });
    await applyFlow(ctx);
  });
  afterAll(async () => { await t?.close(); });

  it('reads only the window when nothing changed', async () => {
    const c = await catchUpOnce();
    expect(c.mode).toBe('window');
    expect(c.rows).toBe(0);
    // the window is anchored at the 64th highest tracked ordinal (nine ids in ten are tracked: id 430)
    // and starts 10,000 below it: rows with modified >= 420,000, ids 420..500
    expect(c.scanned).toBe(81);
    // the window is read from the tracking table by an index on its ordinal, made by the first window catch-up
    const { rows } = await t.tgt.pool.query(`SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indrelid = 'tablesync.rows__cu_win'::regclass AND NOT indisprimary`);
    expect(rows).toEqual([{ name: 'tablesync.ordinal__cu_win', def: 'CREATE INDEX ordinal__cu_win ON tablesync.rows__cu_win USING btree (__tablesync_ordinal)' }]);
  });

  it('applies updates, inserts, filter moves, late commits and deletes inside the window, reading only those', async () => {
    await t.src.sql(`UPDATE events SET payload = 'changed', modified = 600000 + id WHERE id IN (5, 6, 7)`); // updates below → above
    await t.src.sql(`INSERT INTO events VALUES (501, 1, 'new', 700000), (502, 3, 'filtered', 700001)`); // insert, insert out of the filter
    await t.src.sql(`UPDATE events SET grp = 3, modified = 800000 WHERE id = 8`); // leaves the filter (tracked below the window)
    await t.src.sql(`UPDATE events SET grp = 1, modified = 800001 WHERE id = 13`); // enters the filter
    await t.src.sql(`UPDATE events SET payload = 'late', modified = 495500 WHERE id = 495`); // a late commit inside the window
    await t.src.sql(`DELETE FROM events WHERE id = 499`); // a delete inside the window
    const c = await catchUpOnce();
    expect(c).toMatchObject({ mode: 'window' });
    // 3 updates, 1 insert, 1 left the filter, 1 entered it, 1 late commit, 1 delete
    expect(c.rows).toBe(8);
    expect(c.scanned).toBeLessThan(100);
    await waitForSameRows('target = filtered source', t.src.pool, FILTERED, t.tgt.pool, `SELECT id, grp, payload, modified FROM events`);
  });

  it('falls back to the full scan when a row below the window was deleted, and says why', async () => {
    await t.src.sql(`DELETE FROM events WHERE id = 100`);
    await t.src.sql(`UPDATE events SET payload = 'x', modified = 900000 WHERE id = 101`);
    const c = await catchUpOnce();
    expect(c.mode).toBe('full');
    expect(c.reason).toMatch(/older than the window were deleted or left the filter/);
    expect(c.rows).toBe(2);
    await waitForSameRows('target = filtered source', t.src.pool, FILTERED, t.tgt.pool, `SELECT id, grp, payload, modified FROM events`);
    // tracking is exact again: the next catch-up is a window one
    expect((await catchUpOnce()).mode).toBe('window');
  });

  it('says why a flow without an ordinal compares every row', async () => {
    const fp = t.ctx({ name: 'cu_fp', source: { table: 'events', filter: 'grp <> 3', notification: {} }, target: { table: 'events_fp' } });
    await applyFlow(fp);
    await t.src.sql(`UPDATE events SET payload = 'fp' WHERE id = 200`);
    const w = watch(fp);
    try {
      await w.live();
      const c = await waitFor('a catch-up event', () => catchUps(w.catchUps)[0]);
      expect(c.mode).toBe('full');
      expect(c.reason).toMatch(/no ordinal column/);
      expect(c.rows).toBe(1);
    } finally {
      await w.stop();
    }
  });
});
