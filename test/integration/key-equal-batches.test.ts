import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, prepareKeySync, syncKeys, verifyFlow, type FlowContext } from '../../core/target';
import { jobFromFlow, withTargetClient } from '../../core/target/flow-job';
import { logicalNames } from '../../core/live';
import { KEYS_PER_QUERY } from '../../core/source';
import { qualifiedName } from '../../core/sql/ident';
import { STATE_SCHEMA, trackingTableName } from '../../core/state/store';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitFor, waitForSameRows, watch } from '../support/live';

// A key updated to an equal value of another text (numeric 1.0 → 1.00: text-identity.ts), as the
// change feed reports it and in a batch too big for one re-read (key-equal-values.test.ts has the
// rows and the tracking in every path).
describe('equal keys of another text: the change feed and large batches', () => {
  let t: Pair;
  beforeAll(async () => { t = await sourceAndTarget('lkeb'); });
  afterAll(async () => { await t?.close(); });

  const tracking = (ctx: FlowContext) => qualifiedName(STATE_SCHEMA, trackingTableName(ctx.flow.name));
  async function same(what: string, ctx: FlowContext, table: string): Promise<void> {
    await waitForSameRows(`${what}: rows`, t.src.pool, `SELECT n::text, v FROM ${table}`, t.tgt.pool, `SELECT n::text, v FROM ${table}_copy`);
    await waitForSameRows(`${what}: tracked keys`, t.src.pool, `SELECT n::text FROM ${table}`, t.tgt.pool, `SELECT n::text FROM ${tracking(ctx)}`);
  }

  // In one source transaction (one batch, whatever the timing): a value change notified under the
  // key's old text, then the key's text moved. Each notified key is the one row, written under the
  // new text: the feed says applied for both (it said skipped, logical capture deleted, for the old text).
  for (const mode of ['notification', 'replication'] as const) {
    it(`${mode}: the feed reports the old text's change as applied`, async () => {
      const name = `f_${mode.slice(0, 4)}`;
      await t.src.sql(`CREATE TABLE ${name} (n numeric PRIMARY KEY, v text)`);
      await t.src.sql(`INSERT INTO ${name} VALUES (1.0, 'a'), (2.0, 'b'), (3.0, 'c')`);
      const ctx = t.ctx({ name: `lkeb_${mode}`, source: { table: name, filter: `v <> 'hidden'`, [mode]: {} }, target: { table: `${name}_copy` } });
      const w = watch(ctx);
      try {
        await w.live();
        await same('loaded', ctx, name);
        await t.src.sql(`BEGIN; UPDATE ${name} SET v = 'a2' WHERE n = 1; UPDATE ${name} SET n = 1.00 WHERE n = 1; COMMIT`);
        await waitForSameRows(`${mode}: after the key's text moved`, t.src.pool, `SELECT n::text, v FROM ${name}`, t.tgt.pool, `SELECT n::text, v FROM ${name}_copy`);
        // the batch's events are delivered together: the new text's is there, so is the old one's
        await waitFor('the event of key 1.00', () => w.events.some((e) => e.key.n === '1.00'));
        expect(w.events.map((e) => `${e.op} ${String(e.key.n)} ${e.outcome}`).sort()).toEqual(['update 1.0 applied', 'update 1.00 applied']);
        // The key's text moves and the row stops passing the filter: its row goes; the old text is
        // reported deleted and the new one filtered out, as for any key change that leaves the filter.
        await t.src.sql(`UPDATE ${name} SET n = 2.00, v = 'hidden' WHERE n = 2`);
        await waitForSameRows('filtered out', t.src.pool, `SELECT n::text, v FROM ${name} WHERE v <> 'hidden'`, t.tgt.pool, `SELECT n::text, v FROM ${name}_copy`);
        await waitFor('the event of key 2.00', () => w.events.some((e) => e.key.n === '2.00'));
        expect(w.events.filter((e) => String(e.key.n).startsWith('2')).map((e) => `${e.op} ${String(e.key.n)} ${e.outcome}`).sort()).toEqual([`${mode === 'notification' ? 'update' : 'delete'} 2.0 deleted`, 'update 2.00 filtered-out']);
      } finally {
        await w.stop();
        if (mode === 'replication') await t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [logicalNames(ctx.flow).slot]).catch(() => {});
      }
    });
  }

  // The two batch appliers, asked for a key by its old text: the row is written (applied); asked
  // again, it is up to date (skipped).
  it('syncKeys and the one-statement batch report an old text of a written row as applied', async () => {
    await t.src.sql(`CREATE TABLE s (n numeric PRIMARY KEY, v text)`);
    await t.src.sql(`INSERT INTO s SELECT g, 'v' || g FROM generate_series(1, 10) g`);
    const ctx = t.ctx({ name: 'lkebs', source: { table: 's', filter: `v <> 'hidden'` }, target: { table: 's_copy' } });
    await applyFlow(ctx);
    await t.src.sql(`UPDATE s SET n = n * 1.00 WHERE n <= 4`);
    const r = await syncKeys(ctx, [['1'], ['2'], ['2.00']]);
    // (applied lists the rows written, by their text, and each asked key that is one of them)
    expect({ applied: r.applied.map(String).sort(), deleted: r.deleted, skipped: r.skipped }).toEqual({ applied: ['1', '1.00', '2', '2.00'], deleted: [], skipped: [] });
    // the text moves and the row leaves the filter: the old text deleted, the new one filtered out
    await t.src.sql(`UPDATE s SET n = 5.00, v = 'hidden' WHERE n = 5`);
    const f = await syncKeys(ctx, [['5'], ['5.00']]);
    expect({ applied: f.applied, deleted: f.deleted, filteredOut: f.filteredOut, skipped: f.skipped }).toEqual({ applied: [], deleted: [['5']], filteredOut: [['5.00']], skipped: [] });
    const job = await jobFromFlow(ctx);
    await withTargetClient(ctx, async (c) => {
      const ks = await prepareKeySync(c, job);
      expect(ks.oneStatement).toBe(true);
      expect(await ks.run([['3'], ['4'], ['4.00']])).toEqual(['applied', 'applied', 'applied']);
      expect(await ks.run([['3'], ['4.00']])).toEqual(['skipped', 'skipped']);
      await t.src.sql(`UPDATE s SET n = 6.00, v = 'hidden' WHERE n = 6`);
      expect(await ks.run([['6'], ['6.00']])).toEqual(['deleted', 'filtered-out']);
    });
    await waitForSameRows('after the key batches', t.src.pool, `SELECT n::text, v FROM s WHERE v <> 'hidden'`, t.tgt.pool, `SELECT n::text, v FROM s_copy`);
    await waitForSameRows('after the key batches: tracked keys', t.src.pool, `SELECT n::text FROM s WHERE v <> 'hidden'`, t.tgt.pool, `SELECT n::text FROM ${tracking(ctx)}`);
    expect((await verifyFlow(ctx)).equal).toBe(true);
  });

  // One source transaction of more than KEYS_PER_QUERY keys is one batch, re-read in chunks: the
  // row's old text (notified first) and its new text (notified last) fall in different chunks,
  // both of which find the row. It is applied once, under the source's text: before, the upsert met
  // the row twice ("ON CONFLICT DO UPDATE command cannot affect row a second time"), the batch
  // failed and the watch reconnected and caught up.
  it('notification: a batch re-read in several chunks that meet one row under two texts', async () => {
    const n = KEYS_PER_QUERY + 100;
    await t.src.sql(`CREATE TABLE big (n numeric PRIMARY KEY, v text)`);
    await t.src.sql(`INSERT INTO big SELECT g::numeric(10, 1), 'v' || g FROM generate_series(1, ${n}) g`);
    const ctx = t.ctx({ name: 'lkebbig', source: { table: 'big', notification: {} }, target: { table: 'big_copy' } });
    const w = watch(ctx);
    try {
      await w.live();
      await same('loaded', ctx, 'big');
      await t.src.sql(`BEGIN; UPDATE big SET v = 'first' WHERE n = 1; UPDATE big SET v = v || '!' WHERE n BETWEEN 2 AND ${KEYS_PER_QUERY + 50}; UPDATE big SET n = 1.00, v = 'moved' WHERE n = 1; COMMIT`);
      await same('after the large transaction', ctx, 'big');
      await waitFor('the event of key 1.00', () => w.events.some((e) => e.key.n === '1.00'));
      expect(w.events.filter((e) => e.outcome !== 'applied').map((e) => `${e.op} ${String(e.key.n)} ${e.outcome}${e.error ? `: ${e.error}` : ''}`).slice(0, 3)).toEqual([]);
      expect(w.events.length).toBe(KEYS_PER_QUERY + 51);
      expect(w.statuses.filter((s) => s.state === 'reconnecting' || s.state === 'failed').map((s) => `${s.state}: ${s.reason ?? ''}`)).toEqual([]);
    } finally {
      await w.stop();
    }
    expect((await verifyFlow(ctx)).equal).toBe(true);
  });
});
