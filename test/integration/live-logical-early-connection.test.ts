import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { logicalNames } from '../../core/live';
import { REPLICATION_APP } from '../../core/live/logical-objects';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitFor, waitForSameRows, watch } from '../support/live';

// A restarting logical watch opens its replication connection while it still checks (a new backend
// costs milliseconds the catch-up would wait for): that connection must not use the slot before the
// checks found it ours, and its loss before the stream took it is the stream's (a reconnect), not a crash.
describe('logical watch: the replication connection opened early', () => {
  let t: Pair;
  beforeAll(async () => { t = await sourceAndTarget('lear'); });
  afterAll(async () => { await t?.close(); });

  it('holds the slot only after the checks, and a loss before that is a reconnect', async () => {
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, v text)`);
    await t.src.sql(`INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 50) g`);
    const ctx = t.ctx({ name: 'lear', source: { table: 'items', replication: {} }, target: { table: 'items_copy' } });
    const slot = logicalNames(ctx.flow).slot;
    const first = watch(ctx);
    await first.live();
    await first.stop();
    await t.src.sql(`UPDATE items SET v = 'w' || id WHERE id <= 10`);

    // The restart's checks wait for the flow's state (its table locked in the target); meanwhile
    // the early connection is open, and the slot is not in use.
    const locker = new pg.Client({ connectionString: t.tgt.url });
    await locker.connect();
    // locked before the watch starts: a busy machine must not let the checks run first
    await locker.query(`BEGIN; LOCK TABLE tablesync.flows IN ACCESS EXCLUSIVE MODE`);
    const w = watch(ctx);
    try {
      const early = await waitFor('the early replication connection', async () => {
        const { rows } = await t.src.sql(`SELECT pid FROM pg_stat_activity WHERE backend_type = 'walsender' AND application_name = $1 AND datname = current_database()`, [REPLICATION_APP]);
        return rows[0] as { pid: number } | undefined;
      });
      const { rows: before } = await t.src.sql(`SELECT active::text AS active FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
      expect(before[0]).toMatchObject({ active: 'false' });
      await t.src.sql(`SELECT pg_terminate_backend($1)`, [early.pid]);
      await waitFor('the early connection gone', async () => (await t.src.sql(`SELECT 1 FROM pg_stat_activity WHERE pid = $1`, [early.pid])).rowCount === 0);
      await locker.query('COMMIT');
      await w.live();
      await t.src.sql(`INSERT INTO items VALUES (51, 'new')`);
      await waitForSameRows('target = source', t.src.pool, `SELECT * FROM items`, t.tgt.pool, `SELECT * FROM items_copy`);
      expect(w.statuses.map((s) => s.state)).toContain('reconnecting');
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
      await w.stop();
      await t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [slot]).catch(() => {});
    }
  });
});
