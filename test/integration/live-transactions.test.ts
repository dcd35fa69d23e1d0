import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { watch, waitFor, type Watching } from '../support/live';

// A single flow's live watch (trigger mode) applies each source transaction as ONE target
// transaction, by the set watcher's rule (core/live/tx-batches.ts): 1,200 rows changed in one
// source transaction (more than a batch's 500 keys, which used to be cut into three) land with one
// target xmin; small transactions around it are never merged into it half-way; past the watch's
// memory bound the same transaction arrives whole through a catch-up in one transaction; a
// transaction with a TRUNCATE in it lands through one rescan in one target transaction.
describe('live watch: a source transaction is one target transaction', () => {
  let t: Pair;
  let w: Watching | undefined;
  beforeAll(async () => {
    t = await sourceAndTarget('livetx');
    await t.src.sql(`CREATE TABLE items (id bigint PRIMARY KEY, v int NOT NULL, note text, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await t.src.sql(`INSERT INTO items (id, v) SELECT g, 0 FROM generate_series(1, 3000) g`);
  });
  afterAll(async () => {
    await w?.stop();
    await t?.close();
  });

  /** Target rows of `ids` grouped by the transaction that wrote them. */
  const xminsOf = async (where: string) => (await t.tgt.sql(`SELECT xmin::text AS x, count(*) AS n FROM items WHERE ${where} GROUP BY 1 ORDER BY 2 DESC`)).rows as { x: string; n: string }[];

  it('1,200 rows of one source transaction (plus small ones around it) land with one xmin each', async () => {
    const ctx = t.ctx({ name: 'livetx', source: { table: 'items', ordinalColumn: 'at', notification: {} }, target: { table: 'items' } });
    await applyFlow(ctx);
    w = watch(ctx);
    try {
      await w.live();
      // One round trip: a small transaction, the big one, another small one, and ten more of 30 rows
      // (each in BEGIN … COMMIT: statements of one simple query outside them share one transaction).
      await t.src.sql(`
        BEGIN; UPDATE items SET note = 'before', at = clock_timestamp() WHERE id = 3000; COMMIT;
        BEGIN; UPDATE items SET v = 1, at = clock_timestamp() WHERE id BETWEEN 1 AND 1200; COMMIT;
        BEGIN; UPDATE items SET note = 'after', at = clock_timestamp() WHERE id = 3000; COMMIT;
        ${Array.from({ length: 10 }, (_, i) => `BEGIN; UPDATE items SET v = ${100 + i}, at = clock_timestamp() WHERE id BETWEEN ${1201 + i * 30} AND ${1230 + i * 30}; COMMIT;`).join('\n')}`);
      await waitFor('every change in the target', async () =>
        (await t.tgt.sql(`SELECT count(*) AS n FROM items WHERE id <= 1200 AND v = 1`)).rows[0].n === '1200' &&
        (await t.tgt.sql(`SELECT count(*) AS n FROM items WHERE id BETWEEN 1201 AND 1500 AND v >= 100`)).rows[0].n === '300' &&
        (await t.tgt.sql(`SELECT note FROM items WHERE id = 3000`)).rows[0].note === 'after');
      const big = await xminsOf('id BETWEEN 1 AND 1200');
      expect(big).toEqual([{ x: expect.any(String), n: '1200' }]);
      // Each small transaction whole: it may share a batch with others, never be split across two.
      for (let i = 0; i < 10; i++) expect(await xminsOf(`id BETWEEN ${1201 + i * 30} AND ${1230 + i * 30}`), `transaction ${i}`).toHaveLength(1);
      // The big transaction was not merged with the ones around it: those keys were written apart.
      const around = (await t.tgt.sql(`SELECT xmin::text AS x FROM items WHERE id = 3000`)).rows[0].x;
      expect(around).not.toBe(big[0]!.x);
      expect(w.events.filter((e) => e.outcome === 'failed')).toEqual([]);
      expect(w.statuses.filter((s) => s.state === 'reconnecting')).toEqual([]);
    } finally {
      await w.stop();
      w = undefined;
    }
  });

  it('past the memory bound: the keys are dropped and the transaction arrives whole through a catch-up in one transaction', async () => {
    const ctx = t.ctx({ name: 'livetx', source: { table: 'items', ordinalColumn: 'at', notification: {} }, target: { table: 'items' } });
    w = watch(ctx, { maxPendingKeys: 300 });
    await w.live();
    const before = w.catchUps.length;
    await t.src.sql(`BEGIN; UPDATE items SET v = 2, at = clock_timestamp() WHERE id BETWEEN 1 AND 1000; COMMIT;`);
    await waitFor('the transaction in the target', async () => (await t.tgt.sql(`SELECT count(*) AS n FROM items WHERE id <= 1000 AND v = 2`)).rows[0].n === '1000');
    expect(await xminsOf('id BETWEEN 1 AND 1000')).toEqual([{ x: expect.any(String), n: '1000' }]);
    const rescan = await waitFor('the rescan event', () => w!.events.find((e) => e.op === 'rescan'));
    expect(rescan).toMatchObject({ outcome: 'applied', catchUp: { mode: 'full', reason: expect.stringContaining('one transaction') } });
    expect(w.catchUps.length).toBe(before);
    expect((await t.tgt.sql(`SELECT count(*) AS n FROM items`)).rows[0].n).toBe('3000');
  });

  it('a TRUNCATE and the rows written after it in one source transaction land in one target transaction, every notified row included', async () => {
    // A table of its own: the truncate would empty the one above. The target records the
    // transaction of every row written to it (a hand-added trigger: a deleted row leaves no xmin).
    await t.src.sql(`CREATE TABLE logs (id bigint PRIMARY KEY, v int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await t.src.sql(`INSERT INTO logs (id, v) SELECT g, 0 FROM generate_series(1, 300) g`);
    const ctx = t.ctx({ name: 'livetx_trunc', source: { table: 'logs', ordinalColumn: 'at', notification: {} }, target: { table: 'logs' } });
    await applyFlow(ctx);
    await t.tgt.sql(`
      CREATE TABLE written (xact text NOT NULL, op text NOT NULL);
      CREATE FUNCTION written_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO written VALUES (pg_current_xact_id()::text, TG_OP); RETURN NULL; END $$;
      CREATE TRIGGER written_log AFTER INSERT OR UPDATE OR DELETE ON logs FOR EACH ROW EXECUTE FUNCTION written_log();`);
    await w?.stop(); // the watch of the test before
    w = watch(ctx);
    try {
      await w.live();
      await t.tgt.sql(`TRUNCATE written`);
      // A reload: 100 rows written back with their old keys and ordinals (the scan alone would take
      // them for unchanged: only their notified keys say otherwise), and one new row.
      await t.src.sql(`
        BEGIN;
        CREATE TEMP TABLE kept ON COMMIT DROP AS SELECT id, at FROM logs WHERE id <= 100;
        TRUNCATE logs;
        INSERT INTO logs (id, v, at) SELECT id, 1, at FROM kept;
        INSERT INTO logs (id, v) VALUES (1001, 1);
        COMMIT;`);
      await waitFor('the transaction in the target', async () => {
        const r = (await t.tgt.sql(`SELECT count(*) AS n, count(*) FILTER (WHERE v = 1) AS one FROM logs`)).rows[0];
        return r.n === '101' && r.one === '101';
      });
      await waitFor('the truncate event', () => w!.events.find((e) => e.op === 'truncate'));
      // Every write of that source transaction (the 200 rows it deleted, the 101 it wrote) in ONE target transaction.
      const xacts = (await t.tgt.sql(`SELECT xact, count(*) FILTER (WHERE op = 'DELETE') AS deleted, count(*) FILTER (WHERE op <> 'DELETE') AS written FROM written GROUP BY 1`)).rows;
      expect(xacts).toEqual([{ xact: expect.any(String), deleted: '200', written: '101' }]);
      expect((await t.tgt.sql(`SELECT id FROM logs ORDER BY id DESC LIMIT 1`)).rows[0].id).toBe('1001');
      expect(w.events.filter((e) => e.outcome === 'failed')).toEqual([]);
      expect(w.events.find((e) => e.op === 'truncate')).toMatchObject({ outcome: 'applied', catchUp: { mode: 'full', reason: 'a truncate' } });
      expect(w.events.filter((e) => e.op === 'insert').map((e) => e.outcome)).toEqual(Array(101).fill('applied'));
    } finally {
      await w.stop();
      w = undefined;
    }
  });
});
