import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { watch, waitFor, type Watching } from '../support/live';

// A single flow's live watch (trigger mode) applies each source transaction as ONE target
// transaction, by the set watcher's rule (core/live/tx-batches.ts): 1,200 rows changed in one
// source transaction (more than a batch's 500 keys, which used to be cut into three) land with one
// target xmin; small transactions around it are never merged into it half-way; past the watch's
// memory bound the same transaction arrives whole through a catch-up in one transaction.
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
});
