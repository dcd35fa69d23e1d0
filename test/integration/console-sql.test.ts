import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, type TestDatabase } from '../support/db';
import { Engine } from '../../core/app/engine';
import { createDispatcher, type Dispatcher } from '../../core/api/dispatcher';
import { MemorySecretStore } from '../../core/settings/secret-store';
import type { SavedConnection } from '../../core/api/contract';
import type { CompletionSchema, ConsolePage, ConsoleResult } from '../../core/api/contract.console';
import { ConsoleSessions } from '../../core/console';
import { call } from '../support/api';
import { waitFor } from '../support/live';

// The SQL console through the API against a real server: streaming from a cursor, read-only by
// default, writes only when allowed, EXPLAIN as a tree, cancel, one statement, idle close.
describe('SQL console', () => {
  let db: TestDatabase;
  let dataDir: string;
  let engine: Engine;
  let api: Dispatcher;
  let conn: SavedConnection;
  const run = (sql: string, more: Record<string, unknown> = {}) =>
    call<ConsoleResult>(api, 'console.run', { connectionId: conn.id, consoleId: 'c1', sql, ...more });
  const count = async () => Number((await db.sql('SELECT count(*) AS n FROM items')).rows[0].n);

  beforeAll(async () => {
    db = await freshDatabase('console');
    await db.sql(`CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), at timestamptz)`);
    await db.sql(`INSERT INTO items SELECT g, 'item ' || g, g * 1.5, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, 1000) g`);
    await db.sql(`CREATE SEQUENCE counter`);
    dataDir = mkdtempSync(join(tmpdir(), 'tablesync-console-'));
    engine = new Engine({ dataDir, mode: 'browser', secrets: new MemorySecretStore() });
    api = createDispatcher(engine);
    conn = await call<SavedConnection>(api, 'connections.save', { name: 'db', connection: { url: db.url } });
  });
  afterAll(async () => {
    await engine?.close();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers the first page with column types, and reads further pages from the cursor', async () => {
    const r = await run('select id, name, price, at from items order by id;', { limit: 100 });
    expect(r.columns).toEqual([
      { name: 'id', type: 'integer' }, { name: 'name', type: 'text' }, { name: 'price', type: 'numeric(10,2)' }, { name: 'at', type: 'timestamp with time zone' },
    ]);
    expect(r.rows).toHaveLength(100);
    expect(r.rows[0]).toEqual(['1', 'item 1', '1.50', '2026-01-01 00:01:00+00']);
    expect(r).toMatchObject({ offset: 0, done: false, rowCount: null, command: 'SELECT', readOnly: true });
    const p = await call<ConsolePage>(api, 'console.fetch', { consoleId: 'c1', resultId: r.resultId, offset: 950, limit: 100 });
    expect(p.rows.map((x) => x[0])).toEqual(Array.from({ length: 50 }, (_, i) => String(951 + i)));
    expect(p).toMatchObject({ done: true, rowCount: 1000 });
    // back to an earlier page (a scroll cursor)
    const back = await call<ConsolePage>(api, 'console.fetch', { consoleId: 'c1', resultId: r.resultId, offset: 200, limit: 3 });
    expect(back.rows.map((x) => x[0])).toEqual(['201', '202', '203']);
  });

  it('streams a result far too large to load whole: the first page comes, and any page after it', async () => {
    const r = await run('SELECT generate_series(1, 1000000000000) AS n', { limit: 200 });
    expect(r.rows).toHaveLength(200);
    expect(r.done).toBe(false);
    const p = await call<ConsolePage>(api, 'console.fetch', { consoleId: 'c1', resultId: r.resultId, offset: 50_000, limit: 2 });
    expect(p.rows).toEqual([['50001'], ['50002']]);
    // a newer statement closes the old result
    await run('select 1');
    await expect(call(api, 'console.fetch', { consoleId: 'c1', resultId: r.resultId, offset: 0, limit: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('is read-only by default: writes are refused with a message that says how to allow them, and nothing is written', async () => {
    await expect(run(`insert into items values (5000, 'x', 1, now())`)).rejects.toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringMatching(/read-only transaction[\s\S]*Allow writes/) });
    await expect(run(`select nextval('counter')`)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(run(`with d as (delete from items returning *) select count(*) from d`)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(run(`create table sneaky (x int)`)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(await count()).toBe(1000);
    expect((await db.sql(`SELECT to_regclass('sneaky') AS r`)).rows[0].r).toBeNull();
  });

  it('writes when allowed, committed at once, with the command and rows affected', async () => {
    const ins = await run(`insert into items values (5000, 'new', 1, now()), (5001, 'new', 2, now())`, { allowWrites: true });
    expect(ins).toMatchObject({ command: 'INSERT', affected: 2, readOnly: false, columns: [] });
    expect(await count()).toBe(1002);
    const ret = await run(`update items set name = 'renamed' where id >= 5000 returning id, name`, { allowWrites: true });
    expect(ret).toMatchObject({ command: 'UPDATE', affected: 2 });
    expect(ret.rows).toEqual([['5000', 'renamed'], ['5001', 'renamed']]);
    const del = await run(`with d as (delete from items where id >= 5000 returning id) select count(*) from d`, { allowWrites: true });
    expect(del.rows).toEqual([['2']]);
    expect(await count()).toBe(1000);
    // a SELECT that writes through a function, with writes allowed: committed too
    const nv = await run(`select nextval('counter') from generate_series(1, 3)`, { allowWrites: true });
    expect(nv.rows).toEqual([['1'], ['2'], ['3']]);
    expect((await db.sql(`SELECT last_value FROM counter`)).rows[0].last_value).toBe('3');
  });

  it('EXPLAINs as a tree, and EXPLAIN ANALYZE of a write is rolled back', async () => {
    await db.sql('ANALYZE items');
    const e = await run('select * from items where id = 5', { explain: 'plan' });
    expect(e.plan!.root.nodeType).toMatch(/Index Scan|Bitmap Heap Scan|Index Only Scan/);
    expect(e.plan!.root.detail).toMatch(/on items/);
    expect(e.plan!.root.extra.join(' ')).toMatch(/Cond: \(id = 5\)/);
    expect(e.plan!.text).toMatch(/^Index Scan using items_pkey on items/);
    const j = await run('select i.name, count(*) from items i join items j on j.id = i.id + 1 where i.price > 10 group by i.name', { explain: 'analyze' });
    expect(j.plan!.root.children.length).toBeGreaterThan(0);
    expect(j.plan!.root.actualRows).not.toBeNull();
    expect(j.plan!.executionMs).not.toBeNull();
    const w = await run(`delete from items where id <= 10`, { explain: 'analyze', allowWrites: true });
    expect(w.plan!.rolledBack).toBe(true);
    expect(w.plan!.root.nodeType).toBe('Delete');
    expect(await count()).toBe(1000);
    await expect(run(`delete from items where id <= 10`, { explain: 'analyze' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it("reports PostgreSQL's error with the position in the user's statement, and runs one statement at a time", async () => {
    const err = (await run('select * fromm items').catch((e: unknown) => e)) as { message: string };
    expect(err.message).toMatch(/syntax error at or near "fromm"/);
    const env = await api.dispatch('console.run', { connectionId: conn.id, consoleId: 'c1', sql: 'select * fromm items' });
    expect(env.ok).toBe(false);
    if (!env.ok) expect(env.error.detail?.['position']).toBe('10');
    await expect(run('select 1; select 2')).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/one statement at a time/) });
    await expect(run('select * from nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // the session is still usable after errors
    expect((await run('select 42 as answer')).rows).toEqual([['42']]);
    // statements a cursor cannot carry run directly
    expect((await run('show transaction_read_only')).rows).toEqual([['on']]);
  });

  it('cancels a running statement (pg_cancel_backend) and stays usable', async () => {
    const running = run('select pg_sleep(60)', { requestId: 'sleepy' }).catch((e: unknown) => e as { code: string });
    // wait until the statement is on the server, then cancel it
    await waitFor('the console statement sleeping on the server', async () => Number((await db.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep' AND application_name = 'tablesync console'`)).rows[0].n) > 0);
    expect(await call(api, 'query.cancel', { requestId: 'sleepy' })).toEqual({ cancelled: true });
    expect(await running).toMatchObject({ code: 'CANCELLED' });
    expect((await run('select 1 as ok')).rows).toEqual([['1']]);
  });

  it('offers tables and columns for completion', async () => {
    const c = await call<CompletionSchema>(api, 'console.completions', { connectionId: conn.id });
    expect(c['public']?.['items']).toEqual(['id', 'name', 'price', 'at']);
    expect(Object.keys(c)).not.toContain('pg_catalog');
  });

  it('closes a result left idle, ending its transaction', async () => {
    await call(api, 'console.close', { consoleId: 'c1' });
    const sessions = new ConsoleSessions(100);
    try {
      const r = await sessions.run(db.url, { consoleId: 'idle', sql: 'select * from items', allowWrites: false, limit: 10 });
      expect(sessions.size).toBe(1);
      await waitFor('the idle console session closed', () => sessions.size === 0);
      await expect(sessions.fetch('idle', r.resultId, 10, 10)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      // its transaction ends on the server once the session's rollback and release arrive there
      await waitFor('the idle session\'s transaction ended on the server', async () => Number((await db.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'tablesync console' AND datname = current_database() AND state LIKE 'idle in transaction%'`)).rows[0].n) === 0);
    } finally {
      await sessions.closeAll();
    }
  });
});
