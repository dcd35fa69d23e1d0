import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { copyRowsOut, countRows, readRowsByKeys, resolveSource, scanKeyFingerprint, validateFilter } from '../../core/source';
import { createPool } from '../../core/connections/pool';
import { TableSyncError } from '../../core/errors';
import { collect, copyRows } from '../fixtures/source/collect';

// A write hidden where validation cannot see it (behind a branch only a later row takes) still
// cannot happen: every read of the source runs in a READ ONLY transaction.
describe('every source read is read-only', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    await db.sql(`CREATE TABLE audit (n int)`);
    await db.sql(`CREATE FUNCTION sneaky(x int) RETURNS boolean LANGUAGE sql VOLATILE AS $$ INSERT INTO audit VALUES (x) RETURNING true $$`);
    await db.sql(`CREATE TABLE items (id int PRIMARY KEY, v text)`);
    await db.sql(`INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 1000) g`);
  });
  afterAll(async () => { await db?.drop(); });

  it('a write behind a branch passes validation but fails on every read path, writing nothing', async () => {
    // validation evaluates a NULL row and the first physical row (id 1); id 777 is neither
    const r = await resolveSource(db.pool, { table: 'items', filter: 'CASE WHEN id = 777 THEN sneaky(id) ELSE true END' });
    const readOnly = (e: unknown) => e instanceof TableSyncError && /read-only transaction/.test(e.message);
    await expect(copyRows(copyRowsOut(db.pool, r))).rejects.toSatisfy(readOnly);
    await expect(copyRows(scanKeyFingerprint(db.pool, r))).rejects.toSatisfy(readOnly);
    await expect(collect(readRowsByKeys(db.pool, r, [['777']]))).rejects.toSatisfy(readOnly);
    await expect(countRows(db.pool, r, { exact: true })).rejects.toSatisfy(readOnly);
    expect((await db.sql('SELECT count(*) AS n FROM audit')).rows[0].n).toBe('0');
  });

  it('a writing function on the first row is caught by validation', async () => {
    await expect(resolveSource(db.pool, { table: 'items', filter: 'sneaky(id)' })).rejects.toSatisfy((e: unknown) =>
      e instanceof TableSyncError && e.code === 'FILTER_INVALID' && /must not write/.test(e.message));
    expect((await db.sql('SELECT count(*) AS n FROM audit')).rows[0].n).toBe('0');
  });

  it('a filter that takes an advisory lock is refused, and no lock is left behind', async () => {
    expect(await validateFilter(db.pool, 'public', 'items', 'pg_advisory_lock(4242) IS NOT NULL')).toEqual({
      ok: false, message: 'the filter must not take locks: it took an advisory lock',
    });
    const { rows } = await db.sql(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
    expect(rows[0].n).toBe('0');
  });

  it('session settings changed by a filter do not outlive the read', async () => {
    const one = createPool(db.url, { max: 1 });
    try {
      const before = (await one.query('SHOW DateStyle')).rows[0].DateStyle as string;
      const r = await resolveSource(one, { table: 'items', filter: `set_config('DateStyle', 'SQL, DMY', false) IS NOT NULL AND id < 3` });
      expect(await copyRows(copyRowsOut(one, r))).toHaveLength(2);
      expect(await collect(readRowsByKeys(one, r, [['1']]))).toHaveLength(1);
      expect((await one.query('SHOW DateStyle')).rows[0].DateStyle).toBe(before);
    } finally {
      await one.end();
    }
  });
});
