import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../core/app/engine';
import { createDispatcher, type Dispatcher } from '../../core/api/dispatcher';
import type { ApiEvent } from '../../core/api/events';
import { MemorySecretStore } from '../../core/settings/secret-store';
import { call as callApi } from '../support/api';
import { waitFor } from '../support/live';
import { freshDatabase, type TestDatabase } from '../support/db';

// The demo's target is PGlite: one session at a time, and a running watch holds it (the flow lock).
// Planning that flow meanwhile must say so, naming the watch and what to do, not "Connection
// terminated unexpectedly"; once the watch stops, the same plan works.
describe('planning a watched flow on a one-session target', () => {
  let src: TestDatabase;
  let dataDir: string;
  let engine: Engine;
  let api: Dispatcher;
  const events: ApiEvent[] = [];
  const call = <T = unknown>(method: string, input?: unknown) => callApi<T>(api, method, input);

  beforeAll(async () => {
    src = await freshDatabase('watchplan', inject('pgUrl'));
    await src.sql(`CREATE TABLE items (id int PRIMARY KEY, name text)`);
    await src.sql(`INSERT INTO items SELECT i, 'n' || i FROM generate_series(1, 50) i`);
    dataDir = mkdtempSync(join(tmpdir(), 'tablesync-watchplan-'));
    engine = new Engine({ dataDir, mode: 'browser', version: '0.0.0', secrets: new MemorySecretStore() });
    engine.events.on((e) => events.push(e));
    api = createDispatcher(engine);
    await call('connections.save', { name: 'src', connection: { url: src.url } });
    await call('connections.save', { name: 'Vectors', connection: { url: inject('vectorUrl') } });
  });
  afterAll(async () => {
    await api.dispatch('flows.watchStop', { name: 'items_watched' }).catch(() => {});
    await api.dispatch('flows.drop', { name: 'items_watched', allowDestructive: true }).catch(() => {});
    await engine?.close();
    await src?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('says the watch holds the only session, and plans once it stops', async () => {
    await call('flows.save', { flow: { version: 1, name: 'items_watched', source: { connection: { saved: 'src' }, table: 'items', notification: {} }, target: { connection: { saved: 'Vectors' }, table: 'items_watched' } } });
    await call('flows.watchStart', { name: 'items_watched' });
    await waitFor('the watch to be live', () => events.some((e) => e.event === 'flow.listener' && e.payload.flow === 'items_watched' && e.payload.state === 'live'));

    const busy = await api.dispatch('flows.plan', { name: 'items_watched' });
    expect(busy.ok).toBe(false);
    const err = (busy as { error: { code: string; message: string; details?: unknown } }).error;
    // code and message together, so a failure shows the message that came with an unexpected code
    expect(err).toMatchObject({
      code: 'LOCKED',
      message: expect.stringMatching(/^the target of flow "items_watched" serves one session at a time, and the live watch of flow "items_watched" holds it: stop watching "items_watched"/),
    });
    expect(err.message).not.toMatch(/terminated unexpectedly/);
    // the refusal left the watch running
    expect((await call<{ flow: string }[]>('flows.watchList')).map((w) => w.flow)).toEqual(['items_watched']);

    expect(await call('flows.watchStop', { name: 'items_watched' })).toEqual({ stopped: true });
    const plan = await call<{ blockers: unknown[]; rows: { insert: number; update: number; delete: number } }>('flows.plan', { name: 'items_watched' });
    expect(plan.blockers).toEqual([]);
    // the watch's catch-up already wrote every row: nothing left to do
    expect(plan.rows).toMatchObject({ insert: 0, update: 0, delete: 0 });
  });
});
