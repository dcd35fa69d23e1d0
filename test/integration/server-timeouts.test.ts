import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, type FlowContext } from '../../core/target';
import { createPool } from '../../core/connections/pool';
import { parseFlow } from '../../core/flow/load';
import { freshDatabase, type TestDatabase } from '../support/db';
import { waitFor, waitForSameRows, watch } from '../support/live';

// A role whose sessions carry the guards production databases often have: statement_timeout,
// idle_in_transaction_session_timeout, idle_session_timeout, and a lock_timeout. TableSync's own
// long work runs without the first three (as pg_dump does) and keeps lock_timeout for the DDL it
// runs on the user's tables. The filter sleeps 5 ms per row, so every scan of the 300 rows (1.5 s)
// outlasts the 1 s timeouts whatever the machine's speed; the parallel load's apply transaction
// waits (idle) while its streams copy. (150 ms guards failed three times under the CI lanes' load,
// never alone; the likeliest cause, not proven: a loaded machine pausing between two statements of a
// short transaction of ours, which guards of a second or more, as DBAs set them, do not meet.)
describe('a source and target whose role has statement, idle and lock timeouts', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  const role = `tsto_${process.pid}`;
  let ctx: FlowContext;
  const url = (db: TestDatabase) => { const u = new URL(db.url); u.username = role; return u.toString(); };
  beforeAll(async () => {
    src = await freshDatabase('tsto_s');
    tgt = await freshDatabase('tsto_t');
    await src.sql(`CREATE ROLE ${role} LOGIN SUPERUSER`);
    for (const [k, v] of [['statement_timeout', '1s'], ['idle_in_transaction_session_timeout', '1s'], ['idle_session_timeout', '1s'], ['lock_timeout', '1ms']]) {
      await src.sql(`ALTER ROLE ${role} SET ${k} = '${v}'`);
    }
    await src.sql(`CREATE TABLE items (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT now())`);
    await src.sql(`INSERT INTO items (id, v) SELECT g, 'v' || g FROM generate_series(1, 300) g`);
    await src.sql(`ALTER TABLE items OWNER TO ${role}`);
    const flow = parseFlow({ version: 1, name: 'tsto', source: { connection: { url: url(src) }, table: 'items', ordinalColumn: 'updated_at', filter: 'pg_sleep(0.005) IS NOT NULL', notification: {} }, target: { connection: { url: url(tgt) }, table: 'items_copy' } });
    ctx = { flow, sourcePool: createPool(url(src), { max: 4 }), targetPool: createPool(url(tgt), { max: 4 }), sourceUrl: url(src), targetUrl: url(tgt) };
  });
  afterAll(async () => {
    await ctx?.sourcePool.end().catch(() => {});
    await ctx?.targetPool.end().catch(() => {});
    await tgt?.drop();
    await src?.drop();
    await src?.sql(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
  });

  it('applies in parallel streams, then watches through idle minutes of the guards', async () => {
    const r = await applyFlow(ctx, { streams: 2, openTargetPool: (max: number) => createPool(url(tgt), { max }) });
    expect(r.rows.insert).toBe(300);
    await waitForSameRows('loaded', src.pool, `SELECT id, v FROM items`, tgt.pool, `SELECT id, v FROM items_copy`);

    const w = watch(ctx);
    try {
      await w.live();
      const liveAt = Date.now();
      // idle for longer than every timeout the role has
      await waitFor('idle past the timeouts', () => Date.now() - liveAt > 1_500, 5_000);
      await src.sql(`UPDATE items SET v = 'changed', updated_at = now() WHERE id = 7`);
      // (a failure says what the watch went through: it was seen once on a busy machine)
      const went = () => w.statuses.filter((s) => s.state !== 'live').map((s) => `${s.state}${s.reason ? ` (${s.reason})` : ''}`);
      await waitForSameRows('the change arrived', src.pool, `SELECT id, v FROM items`, tgt.pool, `SELECT id, v FROM items_copy`).catch((e: Error) => { throw new Error(`${e.message}; the watch: ${went().join('; ')}`); });
      expect(went().filter((s) => s.startsWith('reconnecting'))).toEqual([]);
    } finally {
      await w.stop();
    }
    // every row changed while stopped: the restart's catch-up re-reads all 300 by key (1.5 s through the
    // filter, past the 1 s statement timeout: it reconnected for ever, and the target never caught up)
    await src.sql(`UPDATE items SET v = 'while stopped', updated_at = clock_timestamp()`);
    const again = watch(ctx);
    try {
      await again.live();
      await waitForSameRows('caught up after the restart', src.pool, `SELECT id, v FROM items`, tgt.pool, `SELECT id, v FROM items_copy`);
      expect(again.statuses.filter((s) => s.state === 'reconnecting').map((s) => s.reason)).toEqual([]);
    } finally {
      await again.stop();
    }
  });
});
