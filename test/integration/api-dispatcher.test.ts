import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, type TestDatabase } from '../support/db';
import { Engine } from '../../core/app/engine';
import { createDispatcher, type Dispatcher } from '../../core/api/dispatcher';
import type { Envelope } from '../../core/api/errors';
import type { ApiEvent } from '../../core/api/events';
import type { SavedConnection } from '../../core/api/contract';
import { freePort } from '../../core/embedded/pg-server';
import { call as callApi } from '../support/api';

// The contract's methods through the one dispatcher, against a real server: validation, error codes,
// secrets never returned, cancel reaching the backend.
describe('API dispatcher', () => {
  let db: TestDatabase;
  let dataDir: string;
  let engine: Engine;
  let api: Dispatcher;
  const events: ApiEvent[] = [];
  let conn: SavedConnection;
  const password = 's3cret-pässword';

  const ok = <T = unknown>(method: string, input?: unknown) => callApi<T>(api, method, input);
  const fails = async (method: string, input?: unknown) => {
    const env = await api.dispatch(method, input);
    expect(env.ok).toBe(false);
    return (env as Extract<Envelope<unknown>, { ok: false }>).error;
  };

  beforeAll(async () => {
    db = await freshDatabase('api');
    await db.sql(`CREATE ROLE "api_${db.name}" LOGIN PASSWORD '${password}'`);
    await db.sql(`GRANT ALL ON SCHEMA public TO "api_${db.name}"`);
    await db.sql(`CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2))`);
    await db.sql(`INSERT INTO items SELECT i, 'item ' || i, i * 1.5 FROM generate_series(1, 1000) i`);
    await db.sql(`CREATE TABLE loose (v text)`);
    await db.sql(`GRANT SELECT ON items, loose TO "api_${db.name}"`);
    await db.sql(`ANALYZE items`);
    dataDir = mkdtempSync(join(tmpdir(), 'tablesync-api-'));
    engine = new Engine({ dataDir, mode: 'browser', version: '9.9.9' });
    engine.events.on((e) => events.push(e));
    api = createDispatcher(engine);
  });
  afterAll(async () => {
    await engine?.close();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers an unknown method with UNKNOWN_METHOD and bad input with INVALID_REQUEST + zod issues', async () => {
    expect((await fails('nope.nothing', {})).code).toBe('UNKNOWN_METHOD');
    const e = await fails('browse.rows', { connectionId: 'x', schema: 'public', table: 't', limit: -3 });
    expect(e.code).toBe('INVALID_REQUEST');
    expect(e.message).toMatch(/limit/);
    expect(Array.isArray(e.detail?.['issues'])).toBe(true);
    expect((await fails('connections.save', { name: 'x', connection: { url: 'postgres://h/d' }, extra: 1 })).code).toBe('INVALID_REQUEST');
  });

  it('reports app info: mode, version, and that secrets are in a plain 0600 file', async () => {
    const info = await ok<{ mode: string; version: string; firstRun: boolean; secretStorage: { kind: string; encrypted: boolean; warning?: string } }>('app.info');
    expect(info).toMatchObject({ mode: 'browser', version: '9.9.9', firstRun: true, secretStorage: { kind: 'file', encrypted: false } });
    expect(info.secretStorage.warning).toMatch(/plain text.*0600/);
  });

  it('saves a connection from a URL; the password goes to the secret store and never comes back', async () => {
    const u = new URL(db.url);
    u.username = `api_${db.name}`;
    u.password = encodeURIComponent(password);
    conn = await ok<SavedConnection>('connections.save', { name: 'Local', connection: { url: u.toString() } });
    expect(conn).toMatchObject({ name: 'Local', database: db.name, user: `api_${db.name}`, hasPassword: true, sslmode: 'prefer' });
    expect(JSON.stringify(conn)).not.toContain(password);
    const list = await ok<SavedConnection[]>('connections.list');
    expect(list).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain(password);
    expect(readFileSync(join(dataDir, 'settings.json'), 'utf8')).not.toContain(password);
    expect(readFileSync(join(dataDir, 'secrets.json'), 'utf8')).toContain(password);
    expect(statSync(join(dataDir, 'secrets.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'settings.json')).mode & 0o777).toBe(0o600);
    expect(events.some((e) => e.event === 'settings.changed')).toBe(true);
  });

  it('updates a connection by fields keeping its password, refuses a duplicate name, tests it', async () => {
    const updated = await ok<SavedConnection>('connections.save', {
      id: conn.id, name: 'Local DB',
      connection: { host: conn.host, port: conn.port, database: conn.database, user: conn.user, sslmode: 'disable' },
    });
    expect(updated).toMatchObject({ id: conn.id, name: 'Local DB', hasPassword: true, sslmode: 'disable' });
    const t = await ok<{ ok: boolean; serverVersion?: string }>('connections.test', { id: conn.id });
    expect(t.ok).toBe(true);
    expect(t.serverVersion).toMatch(/^\d+/);
    const other = await ok<SavedConnection>('connections.save', { name: 'Other', connection: { url: 'postgres://nobody@127.0.0.1:1/x' } });
    expect((await fails('connections.save', { id: other.id, name: 'Local DB', connection: { url: 'postgres://nobody@127.0.0.1:1/x' } })).code).toBe('INVALID_INPUT');
    // a failing test is an answer, not an error
    const port = await freePort();
    const bad = await ok<{ ok: boolean; error?: { code: string } }>('connections.test', { connection: { url: `postgres://nobody@127.0.0.1:${port}/x` } });
    expect(bad).toMatchObject({ ok: false, error: { code: 'CONNECTION_FAILED' } });
    // a draft test falls back to the saved password
    const draft = await ok<{ ok: boolean }>('connections.test', { id: conn.id, connection: { host: conn.host, port: conn.port, database: conn.database, user: conn.user, sslmode: 'disable' } });
    expect(draft.ok).toBe(true);
    expect(await ok('connections.remove', { id: other.id })).toEqual({ removed: true });
    expect((await fails('catalog.schemas', { connectionId: other.id })).code).toBe('NOT_FOUND');
    expect((await fails('connections.save', { name: 'Bad', connection: { url: 'mysql://x/y' } })).code).toBe('INVALID_INPUT');
  });

  it('reads the catalog', async () => {
    const schemas = await ok<{ name: string }[]>('catalog.schemas', { connectionId: conn.id });
    expect(schemas.map((s) => s.name)).toContain('public');
    const tables = await ok<{ name: string; primaryKey: string[]; unusableAsSource?: string }[]>('catalog.tables', { connectionId: conn.id, schema: 'public' });
    expect(tables.find((t) => t.name === 'items')?.primaryKey).toEqual(['id']);
    expect(tables.find((t) => t.name === 'loose')?.unusableAsSource).toBeTruthy();
    const d = await ok<{ columns: { name: string; type: string }[] }>('catalog.describe', { connectionId: conn.id, schema: 'public', table: 'items' });
    expect(d.columns.map((c) => c.type)).toEqual(['integer', 'text', 'numeric(10,2)']);
    expect((await fails('catalog.describe', { connectionId: conn.id, schema: 'public', table: 'missing' })).code).toBe('NOT_FOUND');
  });

  it('browses by keyset and counts (estimate and exact); filters are validated with a matching count', async () => {
    const p1 = await ok<{ rows: string[][]; nextCursor: string[] | null }>('browse.rows', { connectionId: conn.id, schema: 'public', table: 'items', limit: 5, sort: { column: 'price', dir: 'desc' } });
    expect(p1.rows.map((r) => r[0])).toEqual(['1000', '999', '998', '997', '996']);
    const p2 = await ok<{ rows: string[][] }>('browse.rows', { connectionId: conn.id, schema: 'public', table: 'items', limit: 5, sort: { column: 'price', dir: 'desc' }, after: p1.nextCursor });
    expect(p2.rows[0]).toEqual(['995', 'item 995', '1492.50']);
    expect(await ok('browse.count', { connectionId: conn.id, schema: 'public', table: 'items' })).toEqual({ count: 1000, exact: false, source: 'reltuples' });
    expect(await ok('browse.count', { connectionId: conn.id, schema: 'public', table: 'items', exact: true, filter: 'id <= 10' })).toEqual({ count: 10, exact: true, source: 'count' });
    expect(await ok('filter.validate', { connectionId: conn.id, schema: 'public', table: 'items', filter: 'price > 1400' })).toEqual({ valid: true, count: 67, countTimedOut: false });
    const invalid = await ok<{ valid: boolean; message: string; position?: number }>('filter.validate', { connectionId: conn.id, schema: 'public', table: 'items', filter: 'price > nope' });
    expect(invalid).toMatchObject({ valid: false, position: 9 });
    expect(invalid.message).toMatch(/nope/);
    expect((await fails('browse.rows', { connectionId: conn.id, schema: 'public', table: 'items', limit: 5, filter: 'price >' })).code).toBe('FILTER_INVALID');
    expect(await ok('browse.cell', { connectionId: conn.id, schema: 'public', table: 'items', column: 'name', key: ['7'] })).toEqual({ value: 'item 7' });
  });

  it('cancels a long exact count by its requestId (pg_cancel_backend) with CANCELLED', async () => {
    // Cheap on the rows validation evaluates (NULL row, first row), ~10 s over the whole table.
    const filter = 'pg_sleep(CASE WHEN id > 1 THEN 0.01 ELSE 0 END) IS NOT NULL';
    const started = Date.now();
    const counting = api.dispatch('browse.count', { connectionId: conn.id, schema: 'public', table: 'items', exact: true, filter, requestId: 'count-1' });
    await new Promise((r) => setTimeout(r, 700));
    expect(await ok('query.cancel', { requestId: 'count-1' })).toEqual({ cancelled: true });
    const env = await counting;
    expect(env).toMatchObject({ ok: false, error: { code: 'CANCELLED' } });
    expect(Date.now() - started).toBeLessThan(8000);
    expect(await ok('query.cancel', { requestId: 'count-1' })).toEqual({ cancelled: false });
  });

  it('saves, lists, renames and removes flows (a rename is a new identity and says so)', async () => {
    const flow = {
      version: 1, name: 'items_copy',
      source: { connection: { saved: conn.id }, table: 'items' },
      target: { connection: { saved: 'Local DB' }, table: 'items_copy' },
    };
    const saved = await ok<{ created: boolean; flow: { source: { schema: string } } }>('flows.save', { flow });
    expect(saved.created).toBe(true);
    expect(saved.flow.source.schema).toBe('public');
    expect((await fails('flows.save', { flow })).code).toBe('INVALID_INPUT');
    expect((await ok<{ created: boolean }>('flows.save', { flow, previousName: 'items_copy' })).created).toBe(false);
    const list = await ok<{ name: string; source: { connection: string } }[]>('flows.list');
    expect(list).toEqual([expect.objectContaining({ name: 'items_copy', source: expect.objectContaining({ connection: 'Local DB', table: 'items' }) })]);
    const renamed = await ok<{ renamedFrom?: string; warnings: string[] }>('flows.save', { flow: { ...flow, name: 'items_copy2' }, previousName: 'items_copy', removePrevious: true });
    expect(renamed.renamedFrom).toBe('items_copy');
    expect(renamed.warnings.join(' ')).toMatch(/new flow/);
    expect((await ok<{ name: string }[]>('flows.list')).map((f) => f.name)).toEqual(['items_copy2']);
    expect((await ok<{ flow: { name: string } }>('flows.get', { name: 'items_copy2' })).flow.name).toBe('items_copy2');
    expect((await fails('flows.get', { name: 'items_copy' })).code).toBe('NOT_FOUND');
    expect((await fails('flows.save', { flow: { ...flow, version: 2 } })).code).toBe('INVALID_REQUEST');
    expect(await ok('flows.remove', { name: 'items_copy2' })).toEqual({ removed: true });
  });
});
