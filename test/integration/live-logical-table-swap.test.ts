import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logicalNames } from '../../core/live';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitFor, waitForSameRows, watch } from '../support/live';

// A migration that replaces the source table under its name (build items_new, then swap the names;
// or drop and create it again) while the watch runs. The stream tells the flow's changes apart by
// the table's OID: it went on following the old table (now items_old) or nothing, while the watch
// said live. The watch must notice (live, or on its next start), rescan the table that now has the
// name, and stream it.
describe('logical capture: the source table replaced under its name', () => {
  let t: Pair;
  beforeAll(async () => { t = await sourceAndTarget('lswp'); });
  afterAll(async () => { await t?.close(); });

  for (const stopped of [false, true]) for (const how of ['rename', 'recreate'] as const) {
    it(`${how}${stopped ? ' while the watch is stopped' : ''}: the target follows the table that has the name`, async () => {
      const table = `items_${how}${stopped ? '_s' : ''}`;
      await t.src.sql(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
      await t.src.sql(`INSERT INTO ${table} SELECT g, 'old ' || g FROM generate_series(1, 30) g`);
      const ctx = t.ctx({ name: `lswp_${table}`, source: { table, replication: {} }, target: { table } });
      const same = (what: string) => waitForSameRows(`${how}: ${what}`, t.src.pool, `SELECT id, v FROM ${table}`, t.tgt.pool, `SELECT id, v FROM ${table}`, 30_000);
      let w = watch(ctx, { partitionCheckMs: 200 } as never);
      try {
        await w.live();
        await same('loaded');
        if (stopped) await w.stop();
        if (how === 'rename') {
          await t.src.sql(`CREATE TABLE ${table}_new (id int PRIMARY KEY, v text)`);
          await t.src.sql(`INSERT INTO ${table}_new SELECT id, 'new ' || id FROM ${table} WHERE id <= 20`);
          await t.src.sql(`BEGIN; ALTER TABLE ${table} RENAME TO ${table}_old; ALTER TABLE ${table}_new RENAME TO ${table}; COMMIT`);
          await t.src.sql(`UPDATE ${table}_old SET v = 'the old one' WHERE id = 25`);
        } else {
          await t.src.sql(`BEGIN; DROP TABLE ${table}; CREATE TABLE ${table} (id int PRIMARY KEY, v text); INSERT INTO ${table} SELECT g, 'again ' || g FROM generate_series(5, 15) g; COMMIT`);
        }
        if (stopped) {
          w = watch(ctx, { partitionCheckMs: 200 } as never);
          await w.live();
        }
        await same('after the swap');
        await t.src.sql(`INSERT INTO ${table} VALUES (100, 'after')`);
        await t.src.sql(`UPDATE ${table} SET v = 'changed' WHERE id = 10`);
        await same('streaming the new table');
        await waitFor('a rescan that says why', () => w.catchUps.some((e) => /replaced/.test(e.catchUp?.reason ?? '')));
        expect(w.statuses.filter((s) => s.state === 'failed')).toEqual([]);
      } finally {
        await w.stop();
        await t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [logicalNames(ctx.flow).slot]).catch(() => {});
      }
    });
  }
});
