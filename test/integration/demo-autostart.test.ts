import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../core/app/engine';
import { MemorySecretStore } from '../../core/settings/secret-store';

// When the desktop app starts the demo by itself: on the very first run, and later while the demo's
// data and connections are kept; a user who removed the demo connections is not overruled.
describe('demo: when the app starts it by itself', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tablesync-autostart-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const engine = () => new Engine({ dataDir, mode: 'electron', secrets: new MemorySecretStore() });

  it('starts on the first run, not once the user has their own connections only', async () => {
    const e = engine();
    expect(e.demo.shouldAutoStart()).toBe(true);
    await e.connections.save({ name: 'Mine', connection: { url: 'postgres://me@db.example/app' } });
    expect(e.demo.shouldAutoStart()).toBe(false);
    await e.close();
  });

  it('starts again while the demo is kept, and not after its connections were removed', async () => {
    const e = engine();
    mkdirSync(join(dataDir, 'demo'), { recursive: true });
    writeFileSync(join(dataDir, 'demo', 'demo.json'), '{}');
    await e.connections.save({ id: 'demo-source', name: 'Demo source', connection: { url: 'postgres://postgres@127.0.0.1:5999/shop' }, demo: true });
    expect(e.demo.shouldAutoStart()).toBe(true);
    await e.connections.remove('demo-source');
    expect(e.demo.shouldAutoStart()).toBe(false);
    await e.close();
  });
});
