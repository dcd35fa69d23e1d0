import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../core/app/engine';
import { createDispatcher, type Dispatcher } from '../../core/api/dispatcher';
import type { SavedConnection } from '../../core/api/contract';
import { SettingsStore } from '../../core/settings/settings-store';

// A user who adds a PGlite server (one session at a time) by URL must not have to know that: the
// saved connection gets a pool of one, and browsing twice in a row works.
describe('saving a connection to a one-session server', () => {
  let dataDir: string;
  let engine: Engine;
  let api: Dispatcher;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tablesync-single-'));
    engine = new Engine({ dataDir, mode: 'browser', version: '0.0.0' });
    api = createDispatcher(engine);
  });
  afterAll(async () => {
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('detects PGlite and stores poolMax 1; a normal server keeps the default', async () => {
    const env = await api.dispatch('connections.save', { name: 'Vectors', connection: { url: inject('vectorUrl') } });
    expect(env.ok).toBe(true);
    const saved = (env as { result: SavedConnection }).result;
    expect(new SettingsStore(dataDir).getConnection(saved.id)?.poolMax).toBe(1);
    const pgEnv = await api.dispatch('connections.save', { name: 'Plain', connection: { url: inject('pgUrl') } });
    const plain = (pgEnv as { result: SavedConnection }).result;
    expect(new SettingsStore(dataDir).getConnection(plain.id)?.poolMax).toBeUndefined();

    for (let i = 0; i < 3; i++) {
      const r = await api.dispatch('catalog.tables', { connectionId: saved.id, schema: 'public' });
      expect(r.ok).toBe(true);
    }
  });
});
