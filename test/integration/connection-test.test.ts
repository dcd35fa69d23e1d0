import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { createPool } from '../../core/connections/pool';
import { freePort } from '../../core/embedded/pg-server';
import { testConnection } from '../../core/connections';
import { TableSyncError } from '../../core/errors';

describe('testConnection', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    await db.sql(`CREATE TABLE owned (id int PRIMARY KEY)`);
  });
  afterAll(async () => { await db?.drop(); });

  it('reports version, user, database and pgvector availability', async () => {
    const r = await testConnection(db.pool);
    const num = Number((await db.sql('SHOW server_version_num')).rows[0].server_version_num);
    expect(r.serverVersionNum).toBe(num);
    expect(r.serverVersion).toMatch(/^\d+(\.\d+)?/);
    expect(r.currentUser).toBe('postgres');
    expect(r.database).toBe(db.name);
    const avail = (await db.sql(`SELECT count(*) AS n FROM pg_available_extensions WHERE name = 'vector'`)).rows[0].n !== '0';
    expect(r.pgvector).toEqual({ available: avail, installed: false, version: avail ? expect.any(String) : null });
    expect(r.privileges).toBeUndefined();
  });

  it('reports privileges on a table, and names a missing one', async () => {
    const r = await testConnection(db.pool, { table: 'owned' });
    expect(r.privileges).toEqual({ select: true, insert: true, update: true, delete: true, trigger: true, owner: true });
    await expect(testConnection(db.pool, { schema: 'public', table: 'nope' })).rejects.toSatisfy((e: unknown) =>
      e instanceof TableSyncError && e.code === 'NOT_FOUND' && e.message.includes('"public"."nope"'));
  });

  it('fails with CONNECTION_FAILED and no password when the server is unreachable', async () => {
    const port = await freePort();
    const pool = createPool(`postgres://alice:s3cr3t-pw@127.0.0.1:${port}/db?connect_timeout=2`);
    try {
      const e = await testConnection(pool).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(TableSyncError);
      expect((e as TableSyncError).code).toBe('CONNECTION_FAILED');
      expect((e as TableSyncError).message).toContain(`alice@127.0.0.1:${port}/db`);
      expect((e as TableSyncError).message).toMatch(/ECONNREFUSED/);
      expect(JSON.stringify({ m: (e as TableSyncError).message, d: (e as TableSyncError).detail })).not.toContain('s3cr3t');
    } finally {
      await pool.end();
    }
  });

  it('fails with CONNECTION_FAILED naming the database that does not exist', async () => {
    const u = new URL(db.url);
    u.pathname = '/no_such_db';
    u.password = 'pw-should-not-show';
    const pool = createPool(u.toString());
    try {
      const e = await testConnection(pool).then(() => undefined, (x: unknown) => x);
      expect((e as TableSyncError).code).toBe('CONNECTION_FAILED');
      expect((e as TableSyncError).message).toMatch(/database "no_such_db" does not exist/);
      expect((e as TableSyncError).message).not.toContain('pw-should-not-show');
    } finally {
      await pool.end();
    }
  });
});
