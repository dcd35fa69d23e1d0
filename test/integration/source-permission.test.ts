import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freshDatabase, serverUrl, withDatabase, type TestDatabase } from '../support/db';
import { createPool } from '../../core/connections/pool';
import { resolveSource } from '../../core/source';
import { testConnection } from '../../core/connections';
import { TableSyncError } from '../../core/errors';

// A role without SELECT (on the table, on a column, or USAGE on the schema) is told so by name
// before anything runs.
describe('a user without privileges gets PERMISSION_DENIED', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const role = `nopriv_${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    db = await freshDatabase();
    await db.sql(`CREATE ROLE ${role} LOGIN`);
    await db.sql(`CREATE SCHEMA hidden`);
    await db.sql(`CREATE TABLE hidden.t (id int PRIMARY KEY, v text)`);
    await db.sql(`CREATE TABLE secret (id int PRIMARY KEY, v text)`);
    await db.sql(`CREATE TABLE partial (id int PRIMARY KEY, open text, closed text)`);
    await db.sql(`GRANT SELECT (id, open) ON partial TO ${role}`);
    await db.sql(`CREATE TABLE readable (id int PRIMARY KEY, v text)`);
    await db.sql(`GRANT SELECT ON readable TO ${role}`);
    const u = new URL(withDatabase(db.url, db.name));
    u.username = role;
    pool = createPool(u.toString(), { max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
    // roles are server-wide: drop it once its database (and the grants in it) are gone
    const admin = new pg.Client({ connectionString: serverUrl() });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${role}`).finally(() => admin.end());
  });

  const denied = async (spec: Parameters<typeof resolveSource>[1]) => {
    const e = await resolveSource(pool, spec).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(TableSyncError);
    expect((e as TableSyncError).code).toBe('PERMISSION_DENIED');
    return (e as TableSyncError).message;
  };

  it('no SELECT on the table', async () => {
    expect(await denied({ table: 'secret' })).toBe(`permission denied: role "${role}" has no SELECT privilege on "public"."secret" (columns "id", "v")`);
  });

  it('no SELECT on an included column', async () => {
    expect(await denied({ table: 'partial' })).toMatch(/no SELECT privilege on "public"\."partial" \(columns "closed"\)/);
    await expect(resolveSource(pool, { table: 'partial', includedColumns: ['open'] })).resolves.toBeTruthy();
  });

  it('no USAGE on the schema', async () => {
    expect(await denied({ schema: 'hidden', table: 't' })).toBe(`permission denied: role "${role}" has no USAGE privilege on schema "hidden"`);
  });

  it('checked before the filter runs', async () => {
    expect(await denied({ table: 'secret', filter: 'v IS NULL' })).toMatch(/no SELECT privilege/);
  });

  it('testConnection reports the privileges', async () => {
    const r = await testConnection(pool, { table: 'readable' });
    expect(r.currentUser).toBe(role);
    expect(r.privileges).toEqual({ select: true, insert: false, update: false, delete: false, trigger: false, owner: false });
    expect((await testConnection(pool, { table: 'secret' })).privileges?.select).toBe(false);
  });
});
