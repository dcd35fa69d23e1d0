import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, type FlowContext } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { watch, waitForSameRows } from '../support/live';

// The catch-up window reads the key columns beside columns of its own: a source whose key columns
// are called like them (`__o`, `__p`) still catches up through the window, not an SQL error.
describe('catch-up window with key columns named like its own', () => {
  let t: Pair;
  let ctx: FlowContext;
  beforeAll(async () => {
    t = await sourceAndTarget('cu_names');
    await t.src.sql(`CREATE TABLE odd ("__o" int, "__p" text, v text, modified bigint NOT NULL, PRIMARY KEY ("__o", "__p"))`);
    await t.src.sql(`INSERT INTO odd SELECT g, 'k' || g, 'v' || g, g * 1000 FROM generate_series(1, 50) g`);
    ctx = t.ctx({ name: 'cu_names', source: { table: 'odd', ordinalColumn: 'modified', notification: {} }, target: { table: 'odd' } });
    await applyFlow(ctx);
  });
  afterAll(async () => { await t?.close(); });

  it('applies a change made while nobody listened, through the window', async () => {
    await t.src.sql(`UPDATE odd SET v = 'changed', modified = 90000 WHERE "__o" = 3`);
    const w = watch(ctx);
    try {
      await w.live();
      const c = w.catchUps[0]!.catchUp!;
      expect(c.mode).toBe('window');
      expect(c.rows).toBe(1);
      const q = `SELECT "__o", "__p", v, modified FROM odd`;
      await waitForSameRows('target = source', t.src.pool, q, t.tgt.pool, q);
    } finally {
      await w.stop();
    }
  });
});
