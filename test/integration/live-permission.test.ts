import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { freshDatabase, type TestDatabase } from '../support/db';
import { captureNames } from '../../core/live/channel';
import { captureState, ensureCapture } from '../../core/live/capture';
import { createPool } from '../../core/connections/pool';
import { TableSyncError } from '../../core/errors';
import { parseFlow } from '../../core/flow/load';
import { applyFlow } from '../../core/target';
import { watch } from '../support/live';
import type pg from 'pg';

// A trigger needs ownership of the table. A user who does not own it gets PERMISSION_DENIED that
// says so and carries the exact SQL; once an administrator ran it, the same user can watch.
describe('source table owned by another role', () => {
  let db: TestDatabase;
  let userPool: pg.Pool;
  let target: TestDatabase;
  const suffix = randomBytes(4).toString('hex');
  const owner = `live_owner_${suffix}`;
  const user = `live_user_${suffix}`;
  const names = captureNames('perm', 'guarded');
  const table = { flow: 'perm', schema: 'public', table: 'guarded', keyColumns: ['id'] };

  beforeAll(async () => {
    db = await freshDatabase('live_perm');
    target = await freshDatabase('live_perm_t');
    await db.sql(`CREATE ROLE "${owner}" NOLOGIN; CREATE ROLE "${user}" LOGIN`);
    await db.sql(`CREATE TABLE guarded (id int PRIMARY KEY, v text); ALTER TABLE guarded OWNER TO "${owner}"`);
    await db.sql(`GRANT SELECT ON guarded TO "${user}"; GRANT CREATE, USAGE ON SCHEMA public TO "${user}"`);
    const u = new URL(db.url);
    u.username = user;
    userPool = createPool(u.toString());
  });
  afterAll(async () => {
    await userPool?.end();
    await target?.drop();
    await db?.drop();
    const admin = createPool(db.url.replace(/\/[^/]*$/, '/postgres'));
    await admin.query(`DROP ROLE IF EXISTS "${user}"; DROP ROLE IF EXISTS "${owner}"`).catch(() => {});
    await admin.end();
  });

  it('refuses with PERMISSION_DENIED naming the owner and offering the SQL, and writes nothing', async () => {
    const err = await ensureCapture(userPool, table, names).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TableSyncError);
    const e = err as TableSyncError;
    expect(e.code).toBe('PERMISSION_DENIED');
    expect(e.message).toContain('"public"."guarded"');
    expect(e.message).toContain(owner);
    expect(e.message).toContain('CREATE TRIGGER');
    expect(e.detail?.sql).toEqual(expect.stringContaining(`CREATE OR REPLACE FUNCTION "public"."${names.functionName}"()`));
    expect(await captureState(userPool, table, names)).toBe('missing');
  });

  it('fails watchFlow with PERMISSION_DENIED and a failed status carrying the message', async () => {
    const u = new URL(db.url);
    u.username = user;
    const flow = parseFlow({ version: 1, name: 'perm', source: { connection: { url: u.toString() }, table: 'guarded', notification: {} }, target: { connection: { url: target.url }, table: 'guarded' } });
    const ctx = { flow, sourcePool: userPool, targetPool: createPool(target.url, { max: 1 }), sourceUrl: u.toString(), targetUrl: target.url };
    try {
      await applyFlow(ctx);
      const w = watch(ctx);
      const err = (await w.handle.done.then(() => undefined, (e: unknown) => e)) as TableSyncError;
      expect(err.code).toBe('PERMISSION_DENIED');
      expect(w.statuses.at(-1)).toMatchObject({ state: 'failed', reason: expect.stringContaining('CREATE TRIGGER') });
    } finally {
      await ctx.targetPool.end();
    }
  });

  it('lets the user watch once an administrator ran the offered SQL', async () => {
    const e = (await ensureCapture(userPool, table, names).catch((x: unknown) => x)) as TableSyncError;
    await db.sql(String(e.detail?.sql));
    expect(await ensureCapture(userPool, table, names)).toBe('current');
  });

  it('also refuses when the user has the TRIGGER privilege but is not the owner and the objects are outdated', async () => {
    await db.sql(`GRANT TRIGGER ON guarded TO "${user}"`);
    await db.sql(`DROP TRIGGER "${names.truncateTrigger}" ON guarded`);
    const err = (await ensureCapture(userPool, table, names).catch((x: unknown) => x)) as TableSyncError;
    expect(err.code).toBe('PERMISSION_DENIED');
  });
});
