import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pair } from './target-fixture';
import { watchedFlow, type WatchedFlow } from './live-fixture';
import { waitForSameRows, waitFor, type Watching } from '../support/live';

// Notified keys are re-read through the filter: a row that starts matching is inserted, one that
// stops matching is deleted from the target; both that one and an insert that never matched are
// reported as filtered-out.
describe('watch with a filter: rows entering and leaving it', () => {
  let t: Pair;
  let w: Watching;
  const same = () => waitForSameRows('target = filtered source', t.src.pool, `SELECT id, price FROM products WHERE price > 0`, t.tgt.pool, `SELECT id, price FROM products`);

  let f: WatchedFlow;
  beforeAll(async () => {
    f = await watchedFlow('live_filter', [
      `CREATE TABLE products (id int PRIMARY KEY, price numeric)`,
      `INSERT INTO products VALUES (1, 10), (2, 0), (3, 5)`,
    ], { name: 'live_filter', source: { table: 'products', filter: 'price > 0', notification: {} }, target: { table: 'products' } });
    ({ t, w } = f);
  });
  afterAll(async () => { await f?.close(); });

  it('inserts a row that starts matching', async () => {
    await t.src.sql(`UPDATE products SET price = 7 WHERE id = 2`);
    expect(await same()).toHaveLength(3);
    expect(await waitFor('event', () => w.events.find((e) => e.key.id === '2'))).toMatchObject({ op: 'update', outcome: 'applied' });
  });

  it('deletes a row that stops matching, reported as filtered-out', async () => {
    await t.src.sql(`UPDATE products SET price = -1 WHERE id = 1`);
    expect(await same()).toHaveLength(2);
    expect(await waitFor('event', () => w.events.find((e) => e.key.id === '1'))).toMatchObject({ op: 'update', outcome: 'filtered-out' });
  });

  it('leaves out an insert that never matches', async () => {
    await t.src.sql(`INSERT INTO products VALUES (4, 0)`);
    expect(await waitFor('event', () => w.events.find((e) => e.key.id === '4'))).toMatchObject({ op: 'insert', outcome: 'filtered-out' });
    expect(await same()).toHaveLength(2);
  });
});
