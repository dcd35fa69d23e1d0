import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logicalNames } from '../../core/live';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitFor, waitForSameRows, watch } from '../support/live';

// pgoutput streams a table's changes only while a publication publishes it: the changes made while
// it did not (the publication dropped, the table taken out of it, recreated) are not in the slot's
// stream at all, and PostgreSQL 15 fails on the first change decoded after a DROP PUBLICATION. A
// start that finds the publication moved against the one recorded with the stream position takes a
// new slot and a full catch-up; a change of it while watched ends the cycle, and the next start does
// the same. A publication that gained another table is not a change of ours: the slot is resumed.
describe('logical capture: the publication changed under the slot', () => {
  let t: Pair;
  let n = 0;
  beforeAll(async () => {
    t = await sourceAndTarget('logpl');
    await t.src.sql(`CREATE TABLE other_t (id int PRIMARY KEY)`);
  });
  afterAll(async () => { await t?.close(); });

  const setup = async (label: string) => {
    const table = `items_${label}_${++n}`;
    await t.src.sql(`CREATE TABLE ${table} (id int PRIMARY KEY, body text)`);
    await t.src.sql(`INSERT INTO ${table} SELECT g, 'b' || g FROM generate_series(1, 50) g`);
    const ctx = t.ctx({ name: `logpl_${label}_${n}`, source: { table, replication: {} }, target: { table } });
    const names = logicalNames(ctx.flow);
    const same = (what: string) => waitForSameRows(what, t.src.pool, `SELECT id, body FROM ${table}`, t.tgt.pool, `SELECT id, body FROM ${table}`, 30_000);
    const change = async (tag: string) => {
      await t.src.sql(`UPDATE ${table} SET body = $1 WHERE id BETWEEN 10 AND 14`, [tag]);
      await t.src.sql(`DELETE FROM ${table} WHERE id = (SELECT min(id) FROM ${table} WHERE id > 20)`);
      await t.src.sql(`INSERT INTO ${table} SELECT coalesce(max(id), 0) + 1, $1 FROM ${table}`, [tag]);
    };
    const dropSlot = () => t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [names.slot]).catch(() => {});
    return { table, ctx, names, same, change, dropSlot };
  };

  const whileStopped = {
    'the table taken out of it': (pub: string) => t.src.sql(`ALTER PUBLICATION ${pub} SET TABLE other_t`),
    'dropped': (pub: string) => t.src.sql(`DROP PUBLICATION ${pub}`),
    'the table taken out and added again': async (pub: string, table: string) => {
      await t.src.sql(`ALTER PUBLICATION ${pub} DROP TABLE ${table}`);
      await t.src.sql(`UPDATE ${table} SET body = 'unpublished' WHERE id = 3`);
      await t.src.sql(`ALTER PUBLICATION ${pub} ADD TABLE ${table}`);
    },
    'its publish option changed and changed back': async (pub: string, table: string) => {
      await t.src.sql(`ALTER PUBLICATION ${pub} SET (publish = 'insert')`);
      await t.src.sql(`UPDATE ${table} SET body = 'not published' WHERE id = 4`);
      await t.src.sql(`ALTER PUBLICATION ${pub} SET (publish = 'insert, update, delete, truncate')`);
    },
  } as const;

  for (const [what, act] of Object.entries(whileStopped)) {
    it(`${what} while the watch was stopped: a new slot and a full catch-up; the target equals the source`, async () => {
      const s = await setup('s');
      let w = watch(s.ctx);
      try {
        await w.live();
        await s.same('initial load');
        await w.stop();
        await act(s.names.publication, s.table);
        await s.change('while stopped');
        w = watch(s.ctx);
        await w.live();
        expect(w.catchUps[0]?.catchUp).toMatchObject({ mode: 'full', reason: expect.stringContaining(`publication "${s.names.publication}"`) });
        await s.same('after the restart');
        await s.change('after the restart');
        await s.same('live after the restart');
      } finally {
        await w.stop();
        await s.dropSlot();
      }
    });
  }

  for (const [what, act] of [['the table taken out of the publication', (pub: string) => t.src.sql(`ALTER PUBLICATION ${pub} SET TABLE other_t`)], ['the publication dropped', (pub: string) => t.src.sql(`DROP PUBLICATION ${pub}`)]] as const) it(`${what} while watched: the watch notices, and catches up in full`, async () => {
    const s = await setup('w');
    const w = watch(s.ctx, { partitionCheckMs: 100 });
    try {
      await w.live();
      await s.same('initial load');
      await act(s.names.publication);
      await s.change('unpublished, while watched');
      await waitFor('a second catch-up', () => w.catchUps.length >= 2);
      // (PostgreSQL 15's walsender may fail on the dropped publication first: the stream's error ends the cycle then)
      expect(w.statuses.some((x) => x.state === 'reconnecting' && /publication .*changed while watched|publication .* does not exist/.test(x.reason ?? ''))).toBe(true);
      expect(w.catchUps[1]?.catchUp).toMatchObject({ mode: 'full' });
      await s.same('after the watch noticed');
      await s.change('published again');
      await s.same('live again');
    } finally {
      await w.stop();
      await s.dropSlot();
    }
  });

  it('another table added to the publication, or a state recorded before publications were signed: the slot is resumed', async () => {
    const s = await setup('r');
    let w = watch(s.ctx);
    try {
      await w.live();
      await s.same('initial load');
      await w.stop();
      await t.src.sql(`ALTER PUBLICATION ${s.names.publication} ADD TABLE other_t`);
      await s.change('while stopped');
      w = watch(s.ctx);
      await w.live();
      expect(w.catchUps[0]?.catchUp).toMatchObject({ mode: 'slot' });
      await s.same('after the restart');
      await w.stop();
      // as an older TableSync recorded it: no signature; resumed, then signed
      await t.tgt.sql(`UPDATE tablesync.flows SET live = live - 'publicationSig' WHERE flow = $1`, [s.ctx.flow.name]);
      await s.change('while stopped, unsigned');
      w = watch(s.ctx);
      await w.live();
      expect(w.catchUps[0]?.catchUp).toMatchObject({ mode: 'slot' });
      await s.same('after the unsigned restart');
      const { rows } = await t.tgt.sql(`SELECT live->>'publicationSig' AS sig FROM tablesync.flows WHERE flow = $1`, [s.ctx.flow.name]);
      expect(rows[0]?.sig).toMatch(/\d/);
    } finally {
      await w.stop();
      await s.dropSlot();
    }
  });
});
