import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freshDatabase, type TestDatabase } from '../support/db';
import { Engine } from '../../core/app/engine';
import { dataFolderResolver } from '../../core/app/saved-lookup';
import { EncryptedFileSecretStore } from '../../core/settings/secret-store';

// A flow saved in the app names its connections `{ saved }`; the CLI resolves them from the same
// data folder (password from the 0600 file), and says plainly when the password is in the desktop
// app's OS store instead.
describe('settings: saved connections for the CLI', () => {
  let db: TestDatabase;
  let dataDir: string;
  const role = `lookup_${Date.now()}`;

  beforeAll(async () => {
    db = await freshDatabase('lookup');
    await db.sql(`CREATE ROLE "${role}" LOGIN PASSWORD 'pa:ss@word'`);
    dataDir = mkdtempSync(join(tmpdir(), 'tablesync-lookup-'));
  });
  afterAll(async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('resolves by name and by id to a URL that logs in with the stored password', async () => {
    const engine = new Engine({ dataDir, mode: 'browser' });
    const u = new URL(db.url);
    u.username = role;
    u.password = encodeURIComponent('pa:ss@word');
    const saved = await engine.connections.save({ name: 'My DB', connection: { url: u.toString() } });
    await engine.close();

    const resolver = dataFolderResolver({ dataDir });
    for (const ref of ['My DB', saved.id]) {
      const { url, connectionId } = await resolver.resolveConnection({ saved: ref }, 'source.connection');
      expect(connectionId).toBe(saved.id);
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      expect((await c.query('SELECT current_user AS u')).rows[0].u).toBe(role);
      await c.end();
    }
    await expect(resolver.resolveConnection({ saved: 'nope' }, 'source.connection')).rejects.toThrow(/^source.connection: no saved connection named "nope"$/);
  });

  it('the app and the CLI resolve through the same resolver: same answers, same errors', async () => {
    const env = { DB_URL: db.url };
    const engine = new Engine({ dataDir, mode: 'browser', env });
    const cli = dataFolderResolver({ dataDir, env });
    try {
      for (const ref of [{ saved: 'My DB' }, { env: 'DB_URL' }, { url: db.url }]) {
        expect((await engine.resolveConnection(ref, 'x')).url).toBe((await cli.resolveConnection(ref, 'x')).url);
      }
      for (const ref of [{ saved: 'nope' }, { env: 'UNSET_VAR' }, { url: 'mysql://nope' }]) {
        const a = await engine.resolveConnection(ref, 'target.connection').catch((e: Error) => e.message);
        const b = await cli.resolveConnection(ref, 'target.connection').catch((e: Error) => e.message);
        expect(a).toMatch(/^target.connection: /);
        expect(a).toBe(b);
      }
    } finally {
      await engine.close();
    }
  });

  it('refuses a password it cannot read (kept by the desktop app’s OS store)', async () => {
    const cipher = { encrypt: async (s: string) => Buffer.from(s).reverse(), decrypt: async (b: Buffer) => Buffer.from(b).reverse().toString(), status: () => ({ kind: 'os' as const, encrypted: true }) };
    const engine = new Engine({ dataDir, mode: 'electron', secrets: new EncryptedFileSecretStore(join(dataDir, 'secrets.enc.json'), cipher) });
    await engine.connections.save({ name: 'Desktop DB', connection: { url: 'postgres://u:secret@127.0.0.1:5432/d' } });
    await engine.close();
    await expect(dataFolderResolver({ dataDir }).resolveConnection({ saved: 'Desktop DB' })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/OS-encrypted store/) });
  });
});
