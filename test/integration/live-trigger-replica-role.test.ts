import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow } from '../../core/target';
import { flowCaptureNames } from '../../core/live/drop-parts';
import { sourceAndTarget, type Pair } from './target-fixture';
import { freshDatabase, type TestDatabase } from '../support/db';
import { waitFor, waitForSameRows, watch } from '../support/live';

// A trigger fires by default only for changes of origin, not for a session in replica mode
// (session_replication_role = replica): a logical subscription's apply worker writing the source
// table (a common way to feed the database TableSync reads), pg_restore --disable-triggers, a bulk
// fix run that way. The capture triggers fire always, so those changes arrive live, not only at the
// next catch-up; a trigger set back to firing for origin only (ALTER TABLE … ENABLE TRIGGER) is
// restored like a disabled one.
describe('trigger capture: changes written in replica mode', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('crep');
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, v text)`);
    await t.src.sql(`INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 30) g`);
    await t.src.sql(`CREATE TABLE parted (id int, grp int, v text, PRIMARY KEY (id, grp)) PARTITION BY LIST (grp)`);
    await t.src.sql(`CREATE TABLE parted_1 PARTITION OF parted FOR VALUES IN (1)`);
    await t.src.sql(`CREATE TABLE parted_2 PARTITION OF parted FOR VALUES IN (2)`);
    await t.src.sql(`INSERT INTO parted SELECT g, 1 + g % 2, 'v' || g FROM generate_series(1, 40) g`);
  });
  afterAll(async () => { await t?.close(); });

  const replica = (sql: string) => t.src.sql(`BEGIN; SET LOCAL session_replication_role = replica; ${sql}; COMMIT`);

  it('a session in replica mode: its inserts, updates and deletes are notified', async () => {
    const ctx = t.ctx({ name: 'crep', source: { table: 'items', notification: {} }, target: { table: 'items_copy' } });
    const same = (what: string) => waitForSameRows(what, t.src.pool, `SELECT id, v FROM items`, t.tgt.pool, `SELECT id, v FROM items_copy`, 15_000);
    await applyFlow(ctx);
    const w = watch(ctx, { captureCheckMs: 100 });
    try {
      await w.live();
      await replica(`UPDATE items SET v = 'replica' WHERE id <= 5; DELETE FROM items WHERE id = 6; INSERT INTO items VALUES (100, 'replica insert')`);
      await same('after replica-mode changes');
      // notified, not found by a rescan
      expect(w.events.some((e) => e.op === 'update' && e.key['id'] === '3')).toBe(true);
      expect(w.events.filter((e) => e.op === 'rescan')).toEqual([]);
      // set back to firing for changes of origin only: restored, and what changed meanwhile is rescanned
      await t.src.sql(`ALTER TABLE items ENABLE TRIGGER ${JSON.stringify(flowCaptureNames(ctx.flow).rowTrigger)}`);
      await replica(`UPDATE items SET v = 'replica while origin-only' WHERE id = 8`);
      await same('after the trigger was set back to origin-only');
      await waitFor('a rescan with its reason', () => w.events.some((e) => e.op === 'rescan' && /disabled, dropped or changed/.test(e.catchUp?.reason ?? '')));
      const { rows } = await t.src.sql(`SELECT tgenabled::text AS e FROM pg_trigger WHERE tgrelid = 'items'::regclass AND tgname = $1`, [flowCaptureNames(ctx.flow).rowTrigger]);
      expect(rows[0]?.e).toBe('A');
    } finally {
      await w.stop();
    }
  });

  it('a partitioned table: row changes in its partitions, a partition attached later and TRUNCATE of one partition, all in replica mode', async () => {
    const ctx = t.ctx({ name: 'crep_p', source: { table: 'parted', notification: {} }, target: { table: 'parted_copy' } });
    const same = (what: string) => waitForSameRows(what, t.src.pool, `SELECT id, grp, v FROM parted`, t.tgt.pool, `SELECT id, grp, v FROM parted_copy`, 15_000);
    await applyFlow(ctx);
    const w = watch(ctx, { partitionCheckMs: 100 });
    let last: string | null = null;
    try {
      await w.live();
      await replica(`UPDATE parted SET v = 'replica' WHERE id <= 6; DELETE FROM parted WHERE id = 7; INSERT INTO parted VALUES (100, 2, 'replica insert')`);
      await same('after replica-mode row changes');
      await t.src.sql(`CREATE TABLE parted_3 PARTITION OF parted FOR VALUES IN (3)`);
      await waitFor('the new partition\'s capture', async () => {
        const { rows } = await t.src.sql(`SELECT string_agg(tgname || '=' || tgenabled::text, ',' ORDER BY tgname) AS s FROM pg_trigger WHERE tgrelid = 'parted_3'::regclass`);
        last = rows[0].s;
        return rows[0].s?.split(',').length === 2 && !/=[^A]/.test(rows[0].s);
      }).catch((e: Error) => { throw new Error(`${e.message}: ${last}`); });
      await replica(`INSERT INTO parted VALUES (200, 3, 'in the new partition')`);
      await same('a replica-mode insert into the partition attached later');
      await replica(`TRUNCATE parted_1`);
      await same('after a replica-mode TRUNCATE of one partition');
    } finally {
      await w.stop();
    }
  });

  describe('the source table written by a logical subscription', () => {
    let pub: TestDatabase;
    beforeAll(async () => { pub = await freshDatabase('crep_pub'); });
    afterAll(async () => {
      await t.src.sql(`ALTER SUBSCRIPTION crep_sub DISABLE`).catch(() => {});
      await t.src.sql(`ALTER SUBSCRIPTION crep_sub SET (slot_name = NONE)`).catch(() => {});
      await t.src.sql(`DROP SUBSCRIPTION IF EXISTS crep_sub`).catch(() => {});
      await pub.sql(`SELECT pg_drop_replication_slot('crep_sub')`).catch(() => {});
      await pub?.drop();
    });

    it('the apply worker\'s changes are notified', async () => {
      await pub.sql(`CREATE TABLE feed (id int PRIMARY KEY, v text)`);
      await pub.sql(`INSERT INTO feed SELECT g, 'p' || g FROM generate_series(1, 20) g`);
      await pub.sql(`CREATE PUBLICATION crep_pub FOR TABLE feed`);
      // one server: the subscription's slot is made apart (CREATE SUBSCRIPTION would wait for itself)
      await pub.sql(`SELECT pg_create_logical_replication_slot('crep_sub', 'pgoutput')`);
      await t.src.sql(`CREATE TABLE feed (id int PRIMARY KEY, v text)`);
      const conn = new URL(pub.url);
      await t.src.sql(`CREATE SUBSCRIPTION crep_sub CONNECTION 'host=${conn.hostname} port=${conn.port} user=${decodeURIComponent(conn.username)} dbname=${pub.name}' PUBLICATION crep_pub WITH (create_slot = false, slot_name = 'crep_sub')`);
      await waitForSameRows('the subscription copied the table', pub.pool, `SELECT id, v FROM feed`, t.src.pool, `SELECT id, v FROM feed`, 30_000);
      const ctx = t.ctx({ name: 'crep_f', source: { table: 'feed', notification: {} }, target: { table: 'feed_copy' } });
      await applyFlow(ctx);
      const w = watch(ctx);
      try {
        await w.live();
        await pub.sql(`UPDATE feed SET v = 'from the publisher' WHERE id <= 4`);
        await pub.sql(`DELETE FROM feed WHERE id = 5`);
        await pub.sql(`INSERT INTO feed VALUES (50, 'new at the publisher')`);
        await waitForSameRows('target = publisher, through the subscriber', pub.pool, `SELECT id, v FROM feed`, t.tgt.pool, `SELECT id, v FROM feed_copy`, 15_000);
        expect(w.events.some((e) => e.op === 'update' && e.key['id'] === '2')).toBe(true);
      } finally {
        await w.stop();
      }
    });
  });
});
