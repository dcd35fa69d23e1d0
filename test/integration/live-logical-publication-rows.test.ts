import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logicalNames } from '../../core/live';
import { applyFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitFor, waitForSameRows, watch } from '../support/live';

// A publication you name may filter the table's rows (PostgreSQL 15+: FOR TABLE t WHERE (...)) or
// list some of its columns only. A row filter means changes of the rows outside it never arrive
// (and a row leaving it arrives as a delete), while the scan loads every row the flow's filter
// keeps: the target would drift silently, so the watch refuses, naming the filter and the fix.
// A column list only leaves values out: those rows are re-read by key, and the target stays exact.
describe('logical capture: a named publication that filters rows or lists columns', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('logr');
    for (const x of ['filtered', 'listed']) {
      await t.src.sql(`CREATE TABLE ${x} (id int PRIMARY KEY, grp int NOT NULL, body text)`);
      await t.src.sql(`INSERT INTO ${x} SELECT g, g % 10, 'b' || g FROM generate_series(1, 50) g`);
    }
    await t.src.sql(`CREATE PUBLICATION logr_rows FOR TABLE filtered WHERE (grp > 5)`);
    await t.src.sql(`CREATE PUBLICATION logr_cols FOR TABLE listed (id, grp)`);
  });
  afterAll(async () => { await t?.close(); });

  it('a row filter: refused (exit 2), naming the filter; no slot is created', async () => {
    const ctx = t.ctx({ name: 'logr_f', source: { table: 'filtered', replication: { publicationName: 'logr_rows' } }, target: { table: 'filtered' } });
    const w = watch(ctx);
    try {
      const s = await waitFor('failed or live', () => w.statuses.find((x) => x.state === 'failed' || x.state === 'live'));
      expect(s.state).toBe('failed');
      await expect(w.handle.done).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/publication "logr_rows" publishes only the rows of .*filtered"? where \(?grp > 5\)?.*source\.filter/) });
      expect((await t.src.sql(`SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = $1`, [logicalNames(ctx.flow).slot])).rows[0].n).toBe('0');
    } finally {
      await w.stop();
      await t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [logicalNames(ctx.flow).slot]).catch(() => {});
    }
  });

  it('a column list: the values it leaves out are re-read, the target equals the source', async () => {
    const ctx = t.ctx({ name: 'logr_c', source: { table: 'listed', filter: 'body NOT LIKE \'%7\'', replication: { publicationName: 'logr_cols' } }, target: { table: 'listed' } });
    await applyFlow(ctx);
    const w = watch(ctx);
    try {
      await w.live();
      await t.src.sql(`UPDATE listed SET body = body || '!' WHERE id % 3 = 0`);
      await t.src.sql(`UPDATE listed SET body = 'x7' WHERE id = 10`); // leaves the filter by a column not streamed
      await t.src.sql(`UPDATE listed SET grp = 9 WHERE id = 11`);
      await t.src.sql(`INSERT INTO listed VALUES (100, 1, 'new')`);
      await t.src.sql(`DELETE FROM listed WHERE id = 12`);
      await t.src.sql(`UPDATE listed SET id = 200 WHERE id = 13`);
      await waitForSameRows('column list', t.src.pool, `SELECT id, grp, body FROM listed WHERE body NOT LIKE '%7'`, t.tgt.pool, `SELECT id, grp, body FROM listed`);
    } finally {
      await w.stop();
      await t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [logicalNames(ctx.flow).slot]).catch(() => {});
    }
  });
});
