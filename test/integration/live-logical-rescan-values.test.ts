import { afterAll, beforeAll, describe, it } from 'vitest';
import { applyFlow } from '../../core/target';
import { logicalNames } from '../../core/live';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitForSameRows, watch } from '../support/live';

// A logical flow with an ordinal column: a source transaction larger than the watch holds in
// memory (maxBufferedChanges) is applied by a rescan instead of from the stream. The stream would
// have carried every new value; a rescan that found changes by the ordinal alone would miss an
// UPDATE that leaves the ordinal as it was (UPDATE … SET price = price * 1.1, no trigger bumping
// updated_at), and the target would drift silently. Such a rescan compares the rows' values.
describe('logical capture: a rescan instead of the stream compares values, not only the ordinal', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('logv');
    await t.src.sql(`CREATE TABLE prices (id int PRIMARY KEY, price numeric NOT NULL, updated_at timestamptz NOT NULL DEFAULT '2024-01-01')`);
    await t.src.sql(`INSERT INTO prices (id, price) SELECT g, g FROM generate_series(1, 300) g`);
  });
  afterAll(async () => { await t?.close(); });

  it('a transaction over the buffer that changes values but not the ordinal', async () => {
    const ctx = t.ctx({ name: 'logv', source: { table: 'prices', ordinalColumn: 'updated_at', replication: {} }, target: { table: 'prices_copy' } });
    const same = (what: string) => waitForSameRows(what, t.src.pool, `SELECT id, price, updated_at FROM prices`, t.tgt.pool, `SELECT id, price, updated_at FROM prices_copy`, 30_000);
    await applyFlow(ctx);
    let w = watch(ctx, { maxBufferedChanges: 50 } as never);
    try {
      await w.live();
      await t.src.sql(`UPDATE prices SET price = price * 1.1`);
      await same('live');
      await w.stop();
      await t.src.sql(`UPDATE prices SET price = price + 1 WHERE id <= 200`);
      w = watch(ctx, { maxBufferedChanges: 50 } as never);
      await w.live();
      await same('replayed from the slot');
    } finally {
      await w.stop();
      await t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [logicalNames(ctx.flow).slot]).catch(() => {});
    }
  });
});
