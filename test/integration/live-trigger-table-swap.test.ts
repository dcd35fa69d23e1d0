import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceAndTarget, type Pair } from './target-fixture';
import { listenRaw, waitFor, waitForSameRows, watch } from '../support/live';
import { dropFlow } from '../../core/target';
import { dropPartsFor } from '../../core/app/drop-parts';
import { flowCaptureNames } from '../../core/live/drop-parts';

// Trigger capture of a source table replaced under its name (build items_new and swap the names,
// or drop and create it again) while the watch runs, and while it is stopped: the capture check
// finds no trigger on the table that now has the name, installs it and rescans; no trigger of ours
// is left on the renamed-away table, and drop removes the rest (passed as is). What removes the old
// table's triggers is the install (ensureCapture): the catalog read finds every trigger that calls
// our function `{channel}_n`, wherever it is, and one marked as this flow's on a table the flow no
// longer reads is dropped before the new table's are created (ownership.ts `retire`); a drop
// without another watch finds them the same way (by the function they call) and removes them
// before the function.
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
        // our triggers are on the table that has the name, none is left on the renamed-away one (by
        // name, or any trigger calling our function), and drop removes them
        const names = flowCaptureNames(ctx.flow);
        const ours = async () => (await t.src.sql(`SELECT tgrelid::regclass::text AS rel FROM pg_trigger WHERE NOT tgisinternal AND (tgname = ANY($1) OR tgfoid = to_regprocedure($2)) ORDER BY 1`, [[names.rowTrigger, names.truncateTrigger], `public.${names.functionName}()`])).rows.map((r) => r['rel']);
        expect(new Set(await ours())).toEqual(new Set([table]));
        if (how === 'rename') {
          // and the renamed-away table notifies nothing: its change, committed before the marker's, would arrive first
          const l = await listenRaw(t.src.url, names.channel);
          try {
            await t.src.sql(`UPDATE ${table}_old SET v = 'not ours any more' WHERE id = 26`);
            await t.src.sql(`INSERT INTO ${table} VALUES (101, 'marker')`);
            await waitFor('the marker notified', () => l.parsed().some((m) => (m['key'] as Record<string, unknown> | undefined)?.['id'] === '101'));
            expect(l.parsed().map((m) => (m['key'] as Record<string, unknown> | undefined)?.['id'])).toEqual(['101']);
          } finally {
            await l.close();
          }
        }
        await dropFlow(ctx, dropPartsFor(ctx.flow), { allowDestructive: true });
        expect(await ours()).toEqual([]);
        expect((await t.src.sql(`SELECT count(*) AS n FROM pg_proc WHERE proname = $1`, [names.functionName])).rows[0].n).toBe('0');
      } finally {
        await w.stop();
      }
    });
  }

  it('a partitioned table swapped under its name while live: our triggers leave the old tree, partitions included', async () => {
    const table = 'parts_swap';
    const mk = async (name: string) => {
      await t.src.sql(`CREATE TABLE ${name} (id int PRIMARY KEY, v text) PARTITION BY RANGE (id)`);
      await t.src.sql(`CREATE TABLE ${name}_a PARTITION OF ${name} FOR VALUES FROM (0) TO (100)`);
      await t.src.sql(`CREATE TABLE ${name}_b PARTITION OF ${name} FOR VALUES FROM (100) TO (1000)`);
    };
    await mk(table);
    await t.src.sql(`INSERT INTO ${table} SELECT g, 'old ' || g FROM generate_series(1, 150) g`);
    const ctx = t.ctx({ name: `lswpn_${table}`, source: { table, notification: {} }, target: { table } });
    const same = (what: string) => waitForSameRows(what, t.src.pool, `SELECT id, v FROM ${table}`, t.tgt.pool, `SELECT id, v FROM ${table}`, 30_000);
    const names = flowCaptureNames(ctx.flow);
    const ours = async () => (await t.src.sql(`SELECT tgrelid::regclass::text || '.' || tgname AS t FROM pg_trigger WHERE NOT tgisinternal AND tgparentid = 0 AND (tgname = ANY($1) OR tgfoid = to_regprocedure($2)) ORDER BY 1`, [[names.rowTrigger, names.truncateTrigger], `public.${names.functionName}()`])).rows.map((r) => r['t']);
    const w = watch(ctx, { captureCheckMs: 200 } as never);
    try {
      await w.live();
      await same('loaded');
      await mk(`${table}_new`);
      await t.src.sql(`INSERT INTO ${table}_new SELECT g, 'new ' || g FROM generate_series(50, 120) g`);
      await t.src.sql(`BEGIN; ALTER TABLE ${table} RENAME TO ${table}_old; ALTER TABLE ${table}_new RENAME TO ${table}; COMMIT`);
      await same('after the swap');
      // partitions keep their names: the new tree is parts_swap with parts_swap_new_a / _b, the old
      // one parts_swap_old with parts_swap_a / _b. Ours: the row trigger on the root, TRUNCATE on all three
      const wanted = [`${table}.${names.truncateTrigger}`, `${table}.${names.rowTrigger}`, `${table}_new_a.${names.truncateTrigger}`, `${table}_new_b.${names.truncateTrigger}`].sort();
      await waitFor('our triggers on the new tree only', async () => JSON.stringify(await ours()) === JSON.stringify(wanted));
      await t.src.sql(`TRUNCATE ${table}_a`); // the old tree's: no rescan, nothing changes
      await t.src.sql(`UPDATE ${table} SET v = 'changed' WHERE id = 60`);
      await same('streaming the new tree');
      // the old partition's TRUNCATE committed before the UPDATE: had it notified, it would be in the feed by now
      expect(w.events.filter((e) => e.op === 'truncate')).toEqual([]);
    } finally {
      await w.stop();
    }
    await dropFlow(ctx, dropPartsFor(ctx.flow), { allowDestructive: true });
    expect(await ours()).toEqual([]);
  });

  it('rename swap while stopped, then drop without watching again: drop removes our triggers on the renamed-away table, then the function', async () => {
    const table = 'items_dropped';
    await t.src.sql(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
    await t.src.sql(`INSERT INTO ${table} SELECT g, 'old ' || g FROM generate_series(1, 30) g`);
    const ctx = t.ctx({ name: `lswpn_${table}`, source: { table, notification: {} }, target: { table } });
    const w = watch(ctx);
    try {
      await w.live();
    } finally {
      await w.stop();
    }
    await t.src.sql(`CREATE TABLE ${table}_new (id int PRIMARY KEY, v text)`);
    // the user's own trigger on the renamed-away table (another name, another function) stays
    await t.src.sql(`CREATE FUNCTION ${table}_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`);
    await t.src.sql(`CREATE TRIGGER audit AFTER UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${table}_audit()`);
    await t.src.sql(`BEGIN; ALTER TABLE ${table} RENAME TO ${table}_old; ALTER TABLE ${table}_new RENAME TO ${table}; COMMIT`);
    const names = flowCaptureNames(ctx.flow);
    const triggers = async () => (await t.src.sql(`SELECT tgrelid::regclass::text || '.' || tgname AS t FROM pg_trigger WHERE NOT tgisinternal AND tgrelid::regclass::text LIKE $1 ORDER BY 1`, [`${table}%`])).rows.map((r) => r['t']);
    expect(await triggers()).toEqual([`${table}_old.audit`, `${table}_old.${names.rowTrigger}`, `${table}_old.${names.truncateTrigger}`].sort());
    const r = await dropFlow(ctx, dropPartsFor(ctx.flow), { allowDestructive: true });
    // the drop's step names the renamed-away table
    expect(r.steps.find((st) => st.kind === 'drop-trigger')?.sql).toEqual([
      `DROP TRIGGER IF EXISTS "${names.truncateTrigger}" ON "public"."${table}_old"`,
      `DROP TRIGGER IF EXISTS "${names.rowTrigger}" ON "public"."${table}_old"`,
      `DROP FUNCTION IF EXISTS "public"."${names.functionName}"()`,
    ]);
    expect(await triggers()).toEqual([`${table}_old.audit`]);
    expect((await t.src.sql(`SELECT count(*) AS n FROM pg_proc WHERE proname = $1`, [names.functionName])).rows[0].n).toBe('0');
  });
});
