import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDatabase, type TestDatabase } from '../support/db';
import { Engine } from '../../core/app/engine';
import { MemorySecretStore } from '../../core/settings/secret-store';
import { createDispatcher, type Dispatcher } from '../../core/api/dispatcher';
import type { ApiEvent } from '../../core/api/events';
import { call as callApi } from '../support/api';

// Watches through the contract: start (catch-up, then live), change events on the bus, the list and
// recent feed, stop, and drop removing the capture trigger.
describe('API: flows.watch*', () => {
  let src: TestDatabase;
  let dst: TestDatabase;
  let dataDir: string;
  let engine: Engine;
  let api: Dispatcher;
  const events: ApiEvent[] = [];

  const call = <T = unknown>(method: string, input?: unknown) => callApi<T>(api, method, input);
  const waitFor = async (pred: () => boolean, what: string, ms = 20_000) => {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  beforeAll(async () => {
    src = await freshDatabase('wsrc');
    dst = await freshDatabase('wdst');
    await src.sql(`CREATE TABLE items (id int PRIMARY KEY, name text)`);
    await src.sql(`INSERT INTO items SELECT i, 'n' || i FROM generate_series(1, 20) i`);
    dataDir = mkdtempSync(join(tmpdir(), 'tablesync-watch-'));
    engine = new Engine({ dataDir, mode: 'browser', secrets: new MemorySecretStore() });
    engine.events.on((e) => events.push(e));
    api = createDispatcher(engine);
    await call('connections.save', { name: 'src', connection: { url: src.url } });
    await call('connections.save', { name: 'dst', connection: { url: dst.url } });
  });
  afterAll(async () => {
    await engine?.close();
    await src.drop();
    await dst.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts, catches up, streams change events, lists, stops', async () => {
    await call('flows.save', { flow: { version: 1, name: 'items_live', source: { connection: { saved: 'src' }, table: 'items', notification: {} }, target: { connection: { saved: 'dst' }, table: 'items_live' } } });
    const started = await call<{ flow: string }>('flows.watchStart', { name: 'items_live' });
    expect(started.flow).toBe('items_live');
    // idempotent
    expect((await call<{ flow: string }>('flows.watchStart', { name: 'items_live' })).flow).toBe('items_live');
    await waitFor(() => events.some((e) => e.event === 'flow.listener' && e.payload.state === 'live'), 'listener live');
    expect((await dst.sql('SELECT count(*) AS n FROM items_live')).rows[0].n).toBe('20');

    await src.sql(`INSERT INTO items VALUES (21, 'new')`);
    await src.sql(`DELETE FROM items WHERE id = 1`);
    const rowChanges = () => events.filter((e): e is Extract<ApiEvent, { event: 'flow.change' }> => e.event === 'flow.change' && e.payload.op !== 'catch-up');
    await waitFor(() => rowChanges().length >= 2, 'two change events');
    const changes = rowChanges();
    // the catch-up is an entry of its own, its rows counted
    const catchUp = events.find((e): e is Extract<ApiEvent, { event: 'flow.change' }> => e.event === 'flow.change' && e.payload.op === 'catch-up');
    expect(catchUp?.payload.catchUp).toMatchObject({ rows: 20, durationMs: expect.any(Number) });
    expect(changes.map((c) => [c.payload.op, c.payload.key, c.payload.outcome])).toEqual([
      ['insert', { id: '21' }, 'applied'],
      ['delete', { id: '1' }, 'deleted'],
    ]);
    expect((await dst.sql('SELECT count(*) AS n FROM items_live')).rows[0].n).toBe('20');

    const list = await call<{ flow: string; status: { state: string } | null; counts: Record<string, number> }[]>('flows.watchList');
    expect(list).toEqual([expect.objectContaining({ flow: 'items_live', status: expect.objectContaining({ state: 'live' }), counts: { 'caught up': 20, applied: 1, deleted: 1 } })]);
    expect((await call<{ op: string }[]>('flows.watchRecent', { name: 'items_live', limit: 1 })).map((e) => e.op)).toEqual(['delete']);
    expect((await call<{ name: string; watching: boolean }[]>('flows.list')).find((f) => f.name === 'items_live')?.watching).toBe(true);

    expect(await call('flows.watchStop', { name: 'items_live' })).toEqual({ stopped: true });
    expect(await call('flows.watchStop', { name: 'items_live' })).toEqual({ stopped: false });
    expect(await call('flows.watchList')).toEqual([]);
    await waitFor(() => events.some((e) => e.event === 'flow.listener' && e.payload.state === 'stopped'), 'stopped status');

    const trig = async () => (await src.sql(`SELECT count(*) AS n FROM pg_trigger WHERE tgrelid = 'items'::regclass AND NOT tgisinternal`)).rows[0].n;
    expect(await trig()).not.toBe('0');
    await call('flows.drop', { name: 'items_live', allowDestructive: true });
    expect(await trig()).toBe('0');
  });

  it('refuses a flow without notification, naming the fix', async () => {
    await call('flows.save', { flow: { version: 1, name: 'no_notify', source: { connection: { saved: 'src' }, table: 'items' }, target: { connection: { saved: 'dst' }, table: 'x' } } });
    await expect(call('flows.watchStart', { name: 'no_notify' })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/notification/) });
    await expect(call('flows.watchStart', { name: 'ghost' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
