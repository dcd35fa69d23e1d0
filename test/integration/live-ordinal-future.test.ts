import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitForSameRows, watch } from '../support/live';

// Rows whose ordinal lies in the future (a wrong clock, hand-set values): the restart's window
// started 5 minutes below the highest tracked ordinal, so the changes made while the watch was
// stopped (ordinals of now) fell below the window; updates keep the row counts equal, and they were
// lost silently. The window is anchored at the 64th highest tracked ordinal: with 70 rows in the
// future that is one of them. A window that starts after the source's clock is a full scan (the
// first start, nothing recorded yet); the watch records the source's clock, and the next start's
// window begins at or below it (live-ordinal-outliers covers the rest).
describe('trigger capture: a tracked ordinal in the future', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('lofu');
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, v text, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await t.src.sql(`INSERT INTO items (id, v) SELECT g, 'v' || g FROM generate_series(1, 100) g`);
    await t.src.sql(`UPDATE items SET at = '2100-01-01' WHERE id > 30`);
  });
  afterAll(async () => { await t?.close(); });

  it('changes made while stopped still arrive on the next start', async () => {
    const ctx = t.ctx({ name: 'lofu', source: { table: 'items', ordinalColumn: 'at', notification: {} }, target: { table: 'items' } });
    await applyFlow(ctx);
    const same = (what: string) => waitForSameRows(what, t.src.pool, `SELECT id, v, at::text FROM items`, t.tgt.pool, `SELECT id, v, at::text FROM items`, 15_000);
    let w = watch(ctx);
    await w.live();
    expect(w.catchUps[0]?.catchUp).toMatchObject({ mode: 'full', reason: expect.stringMatching(/ahead of the source's clock/) });
    await t.src.sql(`UPDATE items SET v = 'live', at = clock_timestamp() WHERE id = 1`);
    await same('live');
    await w.stop();
    await t.src.sql(`UPDATE items SET v = 'while stopped', at = clock_timestamp() WHERE id BETWEEN 2 AND 5`);
    w = watch(ctx);
    try {
      await w.live();
      expect(w.catchUps[0]?.catchUp).toMatchObject({ mode: 'window', rows: 4 });
      await same('after the restart');
    } finally {
      await w.stop();
    }
  });
});
