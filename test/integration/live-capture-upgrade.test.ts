import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { freshDatabase, type TestDatabase } from '../support/db';
import { listenRaw, waitFor } from '../support/live';
import { captureNames } from '../../core/live/channel';
import { captureSql, hashFromComment, payloadSettings } from '../../core/live/capture-sql';
import { captureState, ensureCapture } from '../../core/live/capture';
import { createPool } from '../../core/connections/pool';

// Capture version 3 puts the source transaction id (`tx`) in every notification, so the function's
// definition hash changed: an installation made by the previous version (the exact SQL it
// installed, test/fixtures/capture-v2-items.sql) is upgraded in place on the next watch through
// the ownership checks, and a function of the same name that is not ours is still refused.
describe('capture function upgraded to carry the source transaction id', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const names = captureNames('upgraded', 'items');
  const table = { flow: 'upgraded', schema: 'public', table: 'items', keyColumns: ['id'] };
  const fnComment = async () => (await db.sql(`SELECT obj_description(to_regprocedure($1), 'pg_proc') AS c`, [`public."${names.functionName}"()`])).rows[0].c as string | null;

  beforeAll(async () => {
    db = await freshDatabase('live_upgrade');
    pool = createPool(db.url);
    await db.sql(`CREATE TABLE items (id int PRIMARY KEY, v text)`);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('replaces a version-2 installation of this flow, and its notifications then carry the transaction id', async () => {
    await db.sql(readFileSync(new URL('../fixtures/capture-v2-items.sql', import.meta.url), 'utf8'));
    expect(hashFromComment(await fnComment())).toBe('66de9c3572681772');
    const raw = await listenRaw(db.url, names.channel);
    try {
      await db.sql(`INSERT INTO items VALUES (1, 'old')`);
      await waitFor('the old notification', () => raw.payloads.length === 1);
      expect(JSON.parse(raw.payloads[0]!)).not.toHaveProperty('tx');

      expect(await captureState(pool, table, names)).toBe('outdated');
      expect(await ensureCapture(pool, table, names)).toBe('outdated');
      expect(await captureState(pool, table, names)).toBe('current');
      // an int key: the function no longer runs with (and pays per row for) the output settings
      expect(hashFromComment(await fnComment())).toBe(captureSql(table, names, [], payloadSettings([['int4', 'b']])).hash);
      const cfg = await db.sql(`SELECT proconfig FROM pg_proc WHERE oid = to_regprocedure($1)`, [`public."${names.functionName}"()`]);
      expect(cfg.rows[0].proconfig).toBeNull();

      const cl = await pool.connect();
      let tx: string;
      try {
        await cl.query('BEGIN');
        await cl.query(`INSERT INTO items VALUES (2, 'new'), (3, 'new')`);
        tx = (await cl.query<{ tx: string }>(`SELECT pg_current_xact_id()::text AS tx`)).rows[0]!.tx;
        await cl.query('COMMIT');
      } finally {
        cl.release();
      }
      await waitFor('the new notifications', () => raw.payloads.length === 3);
      const news = raw.payloads.slice(1).map((p) => JSON.parse(p) as Record<string, unknown>);
      expect(news.map((n) => n.key)).toEqual([{ id: '2' }, { id: '3' }]);
      expect(news.map((n) => n.tx)).toEqual([tx, tx]);
    } finally {
      await raw.close();
    }
  });

  it('a function of our name that someone else made is still refused, even though it looks outdated', async () => {
    const other = captureNames('someone', 'items');
    const t2 = { ...table, flow: 'someone' };
    await db.sql(`CREATE FUNCTION public."${other.functionName}"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$`);
    await db.sql(`COMMENT ON FUNCTION public."${other.functionName}"() IS 'the audit team''s function'`);
    await expect(ensureCapture(pool, t2, other)).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining(other.functionName) });
    const { rows } = await db.sql(`SELECT obj_description(to_regprocedure($1), 'pg_proc') AS c, prosrc FROM pg_proc WHERE oid = to_regprocedure($1)`, [`public."${other.functionName}"()`]);
    expect(rows[0].c).toBe("the audit team's function");
    expect(rows[0].prosrc).not.toContain('pg_notify');
  });
});
