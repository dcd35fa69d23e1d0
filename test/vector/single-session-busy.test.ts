import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Engine } from '../../core/app/engine';
import { createDispatcher, type Dispatcher } from '../../core/api/dispatcher';
import type { SavedConnection } from '../../core/api/contract';

// PGlite turns a second session away by closing the socket, which pg reports only as "Connection
// terminated unexpectedly". Browsing a one-session server while something else holds it must say why.
describe('browsing a one-session server that another session holds', () => {
  let dataDir: string;
  let engine: Engine;
  let api: Dispatcher;
  let holder: pg.Client;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tablesync-busy-'));
    engine = new Engine({ dataDir, mode: 'browser', version: '0.0.0' });
    api = createDispatcher(engine);
  });
  afterAll(async () => {
    await holder?.end().catch(() => {});
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('names the connection and the cause, and works again once the session is free', async () => {
    const env = await api.dispatch('connections.save', { name: 'Vectors', connection: { url: inject('vectorUrl') } });
    const saved = (env as { result: SavedConnection }).result;
    // the save's own probe session may take a moment to leave
    for (let attempt = 0; ; attempt++) {
      holder = new pg.Client({ connectionString: inject('vectorUrl') });
      try {
        await holder.connect();
        break;
      } catch (e) {
        if (attempt > 40) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const busy = await api.dispatch('catalog.schemas', { connectionId: saved.id });
    expect(busy.ok).toBe(false);
    const err = (busy as { error: { code: string; message: string } }).error;
    // both at once, so a failure shows the message that came with an unexpected code
    expect(err).toMatchObject({ code: 'CONNECTION_FAILED', message: expect.stringMatching(/^Vectors serves one connection at a time, and a running watch or apply is using it/) });
    await holder.end();
    const free = await api.dispatch('catalog.schemas', { connectionId: saved.id });
    expect(free.ok).toBe(true);
  });
});
