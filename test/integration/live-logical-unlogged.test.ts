import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logicalNames } from '../../core/live';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitForSameRows, watch } from '../support/live';

// An UNLOGGED table's changes are not written to the WAL: logical replication never sees them, and a
// publication FOR ALL TABLES leaves it out without a word (the watch went live and streamed nothing).
// Refused at the start, naming the table and what to do, with nothing created; a table made UNLOGGED
// while watched ends the watch the same way.
describe('logical capture of an UNLOGGED table', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('lunl');
    await t.src.sql(`CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY, v text)`);
    await t.src.sql(`INSERT INTO scratch SELECT g, 'v' || g FROM generate_series(1, 20) g`);
    await t.src.sql(`CREATE TABLE becomes (id int PRIMARY KEY, v text)`);
    await t.src.sql(`INSERT INTO becomes SELECT g, 'v' || g FROM generate_series(1, 20) g`);
    await t.src.sql(`CREATE PUBLICATION lunl_all FOR ALL TABLES`);
  });
  afterAll(async () => {
    await t.src.sql(`DROP PUBLICATION IF EXISTS lunl_all`).catch(() => {});
    await t?.close();
  });
  const slots = async () => Number((await t.src.sql(`SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name LIKE 'tablesync_lunl%'`)).rows[0].n);

  for (const publicationName of [undefined, 'lunl_all']) {
    it(`${publicationName ? 'a publication FOR ALL TABLES' : 'its own publication'}: refused (UNSUPPORTED), naming the table and what to do; no slot${publicationName ? '' : ', no publication'}`, async () => {
      const ctx = t.ctx({ name: `lunl_${publicationName ? 'all' : 'own'}`, source: { table: 'scratch', replication: publicationName ? { publicationName } : {} }, target: { table: `scratch_${publicationName ? 'all' : 'own'}` } });
      const w = watch(ctx);
      await expect(w.handle.done).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/table "?scratch"? is UNLOGGED.*"notification": \{\}.*SET LOGGED/) });
      expect(await slots()).toBe(0);
      if (!publicationName) expect((await t.src.sql(`SELECT count(*) AS n FROM pg_publication WHERE pubname = $1`, [logicalNames(ctx.flow).publication])).rows[0].n).toBe('0');
    });
  }

  it('made UNLOGGED while watched (a publication FOR ALL TABLES allows it): the watch stops, saying why', async () => {
    const ctx = t.ctx({ name: 'lunl_becomes', source: { table: 'becomes', replication: { publicationName: 'lunl_all' } }, target: { table: 'becomes' } });
    const w = watch(ctx, { partitionCheckMs: 100 });
    try {
      await w.live();
      await waitForSameRows('loaded', t.src.pool, `SELECT id, v FROM becomes`, t.tgt.pool, `SELECT id, v FROM becomes`);
      await t.src.sql(`ALTER TABLE becomes SET UNLOGGED`);
      await expect(w.handle.done).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/UNLOGGED/) });
    } finally {
      await w.stop();
      await t.src.sql(`SELECT pg_drop_replication_slot($1)`, [logicalNames(ctx.flow).slot]).catch(() => {});
    }
  });
});
