import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { logicalNames } from '../../core/live';
import { catchUpTarget } from '../../core/live/logical-objects';
import { poolConfig } from '../../core/connections/pool';
import { parseConnectionUrl } from '../../core/connections/url';
import { sourceAndTarget, type Pair } from './target-fixture';
import { rowsAsLines, watch, type Watching } from '../support/live';

// Where a restarted logical watch has caught up (catchUpTarget): past every transaction the source
// had committed when it started, including ones committed with synchronous_commit = off, and at a
// position the server has already flushed, so the walsender can send it at once (it sends only
// flushed WAL). A session that may not write the message falls back to the WAL insert position.
describe('logical capture: the catch-up target', () => {
  let t: Pair;
  let w: Watching | undefined;
  const lsn = (s: string) => { const [hi, lo] = s.split('/'); return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`); };
  const pool = (options: string) => new pg.Pool({ ...poolConfig(parseConnectionUrl(t.src.url), { max: 1 }), options });

  beforeAll(async () => {
    t = await sourceAndTarget('logi_ct');
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, body text)`);
    await t.src.sql(`INSERT INTO items SELECT g, 'b' || g FROM generate_series(1, 100) g`);
  });
  afterAll(async () => {
    await w?.stop();
    const names = logicalNames(t.ctx({ name: 'logi_ct', source: { table: 'items', replication: {} }, target: { table: 'items' } }).flow);
    await t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [names.slot]).catch(() => {});
    await t?.close();
  });

  it('is past an asynchronous commit made before it, and already flushed, whatever the session default', async () => {
    const p = pool('-c synchronous_commit=off');
    try {
      await p.query(`UPDATE items SET body = body || '!' WHERE id = 1`); // committed, maybe not flushed
      const { rows: [before] } = await p.query<{ i: string }>('SELECT pg_current_wal_insert_lsn()::text AS i');
      const target = await catchUpTarget(p);
      const { rows: [after] } = await p.query<{ f: string; s: string }>(`SELECT pg_current_wal_flush_lsn()::text AS f, current_setting('synchronous_commit') AS s`);
      expect(lsn(target)).toBeGreaterThanOrEqual(lsn(before!.i));
      expect(lsn(after!.f)).toBeGreaterThanOrEqual(lsn(target));
      expect(after!.s).toBe('off'); // SET LOCAL: the session's own setting is untouched
    } finally {
      await p.end();
    }
  });

  it('falls back to the insert position where the function is not allowed, and leaves the session usable', async () => {
    const role = `tablesync_ct_${process.pid}`;
    // every overload (PostgreSQL 17 added a `flush` argument), in this database only
    const acl = (what: string) => t.src.sql(`DO $$ DECLARE f regprocedure; BEGIN
      FOR f IN SELECT oid::regprocedure FROM pg_proc WHERE proname = 'pg_logical_emit_message' LOOP EXECUTE format('${what}', f); END LOOP; END $$`);
    await acl('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC');
    await t.src.sql(`CREATE ROLE ${role} LOGIN PASSWORD 'ct'`);
    const u = new URL(t.src.url);
    u.username = role;
    u.password = 'ct';
    const p = new pg.Pool({ ...poolConfig(parseConnectionUrl(u.toString()), { max: 1 }) });
    try {
      await expect(p.query(`SELECT pg_logical_emit_message(true, 'x', '')`)).rejects.toThrow(/permission denied/);
      const { rows: [before] } = await p.query<{ i: string }>('SELECT pg_current_wal_insert_lsn()::text AS i');
      const target = await catchUpTarget(p);
      expect(lsn(target)).toBeGreaterThanOrEqual(lsn(before!.i));
      const { rows } = await p.query<{ x: string }>('SELECT 1::text AS x'); // no aborted transaction left behind
      expect(rows[0]!.x).toBe('1');
    } finally {
      await p.end();
      await acl('GRANT EXECUTE ON FUNCTION %s TO PUBLIC');
      await t.src.sql(`DROP ROLE ${role}`);
    }
  });

  it('a watch restarted after asynchronous commits is live with all of them applied', async () => {
    const ctx = t.ctx({ name: 'logi_ct', source: { table: 'items', replication: {} }, target: { table: 'items' } });
    w = watch(ctx);
    await w.live();
    await w.stop();
    const p = pool('-c synchronous_commit=off');
    try {
      for (let i = 0; i < 20; i++) await p.query(`UPDATE items SET body = $1 WHERE id = $2`, [`async ${i}`, 1 + i]);
      await p.query(`INSERT INTO items VALUES (1000, 'last async')`);
    } finally {
      await p.end();
    }
    const expected = await rowsAsLines(t.src.pool, 'SELECT id, body FROM items');
    w = watch(ctx);
    await w.live();
    // at live, with no wait: the target already has every commit made before the watch started
    expect(await rowsAsLines(t.tgt.pool, 'SELECT id, body FROM items')).toEqual(expected);
  });
});
