import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConnectionUrl } from '../../core/connections/url';
import { SettingsStore } from '../../core/settings/settings-store';
import { sourceAndTarget, type Pair } from './target-fixture';
import { runCli } from '../support/cli';

// A flow saved in the app names its connections `{ "saved": name }`; the CLI resolves them from the
// same data folder ($TABLESYNC_HOME here), so the flow runs headless unchanged.

const run = runCli;

describe('CLI with { saved } connections', () => {
  let t: Pair;
  let home: string;
  beforeAll(async () => {
    t = await sourceAndTarget();
    home = mkdtempSync(join(tmpdir(), 'tablesync-home-'));
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, name text)`);
    await t.src.sql(`INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 12) g`);
    const settings = new SettingsStore(home);
    for (const [id, name, url] of [['c1', 'Source DB', t.src.url], ['c2', 'Target DB', t.tgt.url]] as const) {
      const p = parseConnectionUrl(url);
      settings.putConnection({ id, name, host: p.host, port: p.port, database: p.database, user: p.user, sslmode: p.sslmode, options: {}, hasPassword: false, demo: false, updatedAt: new Date().toISOString() });
    }
  });
  afterAll(async () => {
    rmSync(home, { recursive: true, force: true });
    await t.close();
  });

  it('applies a flow whose connections are saved in the app, by name', async () => {
    const file = join(home, 'flow.json');
    writeFileSync(file, JSON.stringify({
      version: 1, name: 'saved_flow',
      source: { connection: { saved: 'Source DB' }, table: 'items' },
      target: { connection: { saved: 'Target DB' }, table: 'items_copy' },
    }));
    const r = await run(['apply', file], { TABLESYNC_HOME: home });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { rows } = await t.tgt.sql('SELECT count(*)::int AS n FROM items_copy');
    expect(rows[0].n).toBe('12');
  });

  it('names a saved connection that does not exist, exit 2', async () => {
    const file = join(home, 'flow2.json');
    writeFileSync(file, JSON.stringify({
      version: 1, name: 'saved_flow2',
      source: { connection: { saved: 'Nope' }, table: 'items' },
      target: { connection: { saved: 'Target DB' }, table: 'items_copy2' },
    }));
    const r = await run(['plan', file], { TABLESYNC_HOME: home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Nope');
  });
});
