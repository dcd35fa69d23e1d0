import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitForSameRows, watch } from '../support/live';
import { dropFlow } from '../../core/target';
import { dropPartsFor } from '../../core/app/drop-parts';
import { flowCaptureNames } from '../../core/live/drop-parts';

// Trigger capture of a source table replaced under its name (build items_new and swap the names,
// or drop and create it again) while the watch runs, and while it is stopped: the capture check
// finds no trigger on the table that now has the name, installs it and rescans; no trigger of ours
// is left on the renamed-away table, and drop removes the rest (passed as is).
describe('trigger capture: the source table replaced under its name', () => {
  let t: Pair;
  beforeAll(async () => { t = await sourceAndTarget('lswn'); });
  afterAll(async () => { await t?.close(); });

  for (const stopped of [false, true]) for (const how of ['rename', 'recreate'] as const) {
    it(`${how}${stopped ? ' while the watch is stopped' : ''}: the target follows the table that has the name`, async () => {
      const table = `items_${how}${stopped ? '_s' : ''}`;
      await t.src.sql(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
      await t.src.sql(`INSERT INTO ${table} SELECT g, 'old ' || g FROM generate_series(1, 30) g`);
      const ctx = t.ctx({ name: `lswpn_${table}`, source: { table, notification: {} }, target: { table } });
      const same = (what: string) => waitForSameRows(`${how}: ${what}`, t.src.pool, `SELECT id, v FROM ${table}`, t.tgt.pool, `SELECT id, v FROM ${table}`, 30_000);
      let w = watch(ctx, { captureCheckMs: 200 } as never);
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
          w = watch(ctx, { captureCheckMs: 200 } as never);
          await w.live();
        }
        await same('after the swap');
        await t.src.sql(`INSERT INTO ${table} VALUES (100, 'after')`);
        await t.src.sql(`UPDATE ${table} SET v = 'changed' WHERE id = 10`);
        await same('streaming the new table');
        expect(w.statuses.filter((s) => s.state === 'failed')).toEqual([]);
        await w.stop();
        // our triggers are on the table that has the name, none is left on the renamed-away one, and drop removes them
        const names = flowCaptureNames(ctx.flow);
        const ours = async () => (await t.src.sql(`SELECT tgrelid::regclass::text AS rel FROM pg_trigger WHERE tgname = ANY($1) ORDER BY 1`, [[names.rowTrigger, names.truncateTrigger]])).rows.map((r) => r['rel']);
        expect(new Set(await ours())).toEqual(new Set([table]));
        await dropFlow(ctx, dropPartsFor(ctx.flow), { allowDestructive: true });
        expect(await ours()).toEqual([]);
        expect((await t.src.sql(`SELECT count(*) AS n FROM pg_proc WHERE proname = $1`, [names.functionName])).rows[0].n).toBe('0');
      } finally {
        await w.stop();
      }
    });
  }
});
