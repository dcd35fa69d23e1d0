import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { applyFlow } from '../../core/target';
import { trackingTableSql } from '../../core/state/store';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitFor, waitForSameRows, watch } from '../support/live';

// A listener lost while a catch-up is running is noticed then (within a heartbeat), not when the
// catch-up ends: the catch-up is cancelled, the watch says it is reconnecting, and once the
// obstacle is gone it catches up and the target equals the source.
describe('listener lost during a catch-up', () => {
  let t: Pair;

  beforeAll(async () => {
    t = await sourceAndTarget('live_lostcu');
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, body text, modified bigint NOT NULL)`);
    await t.src.sql(`INSERT INTO items SELECT g, 'b' || g, g FROM generate_series(1, 300) g`);
  });
  afterAll(async () => { await t?.close(); });

  it('cancels the catch-up and reconnects while the catch-up would still be waiting', async () => {
    const ctx = t.ctx({ name: 'live_lostcu', source: { table: 'items', ordinalColumn: 'modified', notification: {} }, target: { table: 'items' } });
    await applyFlow(ctx);
    const w = watch(ctx);
    await w.live();
    // Hold the tracking table: the next catch-up waits on it for as long as this transaction lasts.
    const blocker = new pg.Client({ connectionString: t.tgt.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`LOCK TABLE ${trackingTableSql('live_lostcu')} IN ACCESS EXCLUSIVE MODE`);
      const kill = () => t.src.sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tablesync live' AND datname = current_database()`);
      await kill();
      await waitFor('a second catch-up, blocked', () => w.statuses.filter((s) => s.state === 'catching-up').length >= 2);
      const before = w.statuses.length;
      await kill(); // lost again, during the blocked catch-up
      await waitFor('reconnecting while the catch-up is still blocked', () => w.statuses.slice(before).some((s) => s.state === 'reconnecting'), 10_000);
      expect(w.statuses.filter((s) => s.state === 'live')).toHaveLength(1);
      await t.src.sql(`UPDATE items SET body = 'after', modified = 1000 WHERE id = 7`);
    } finally {
      await blocker.query('ROLLBACK').catch(() => {});
      await blocker.end();
    }
    await w.live(2);
    await waitForSameRows('target = source', t.src.pool, `SELECT * FROM items`, t.tgt.pool, `SELECT * FROM items`);
    await w.stop();
  });
});
