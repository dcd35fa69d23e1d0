import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pair } from './target-fixture';
import { watchedFlow, type WatchedFlow } from './live-fixture';
import { waitForSameRows, waitFor, type Watching } from '../support/live';

// An update that changes the primary key: the row under the old key leaves the target, the row under
// the new key arrives, in the same batch (composite key, one part changing).
describe('watch follows a key change', () => {
  let t: Pair;
  let w: Watching;

  let f: WatchedFlow;
  beforeAll(async () => {
    f = await watchedFlow('live_key', [
      `CREATE TABLE stock (sku text, "Store" int, qty int, PRIMARY KEY (sku, "Store"))`,
      `INSERT INTO stock VALUES ('a', 1, 10), ('b', 1, 20)`,
    ], { name: 'live_key', source: { table: 'stock', notification: {} }, target: { table: 'stock' } });
    ({ t, w } = f);
  });
  afterAll(async () => { await f?.close(); });

  it('deletes the old key and inserts the new one', async () => {
    await t.src.sql(`UPDATE stock SET "Store" = 2, qty = 11 WHERE sku = 'a'`);
    const rows = await waitForSameRows('target = source', t.src.pool, `SELECT * FROM stock`, t.tgt.pool, `SELECT * FROM stock`);
    expect(rows).toEqual([JSON.stringify({ sku: 'a', Store: '2', qty: '11' }), JSON.stringify({ sku: 'b', Store: '1', qty: '20' })]);
    const events = await waitFor('two events', () => (w.events.length >= 2 ? w.events : undefined));
    expect(events.map((e) => [e.key, e.outcome])).toEqual([
      [{ sku: 'a', Store: '1' }, 'deleted'],
      [{ sku: 'a', Store: '2' }, 'applied'],
    ]);
  });

  it('handles a key swap between two rows in one statement', async () => {
    await t.src.sql(`UPDATE stock SET sku = CASE sku WHEN 'a' THEN 'b' ELSE 'a' END, "Store" = 3`);
    await waitForSameRows('target = source', t.src.pool, `SELECT * FROM stock`, t.tgt.pool, `SELECT * FROM stock`);
    expect((await t.tgt.sql(`SELECT count(*) AS n FROM stock`)).rows[0].n).toBe('2');
  });
});
