import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianBinaries, embeddedBinaries, startPostgres, type RunningPg } from '../../core/embedded/pg-server';
import { createPool } from '../../core/connections/pool';
import { logicalNames } from '../../core/live';
import { parseFlow } from '../../core/flow/load';
import { runCli } from '../support/cli';

// Source servers whose settings leave logical capture no room: the watch refuses at once (exit 2),
// says which setting to change (and that the server must restart), and creates nothing: no slot,
// no publication, no target table. It used to reconnect forever, and with max_wal_senders = 0 it
// had created the slot and loaded the table first.
describe.each<{ label: string; settings: Record<string, number>; message: RegExp; occupy?: boolean }>([
  { label: 'max_wal_senders = 0', settings: { max_wal_senders: 0 }, message: /the source server has max_wal_senders = 0; .*ALTER SYSTEM SET max_wal_senders = 10.*restart the server/ },
  { label: 'max_replication_slots = 0', settings: { max_replication_slots: 0, max_wal_senders: 0 }, message: /the source server has max_replication_slots = 0 and max_wal_senders = 0; .*ALTER SYSTEM SET max_replication_slots = 10; ALTER SYSTEM SET max_wal_senders = 10.*they only change on a restart/ },
  { label: 'every slot taken by someone else', settings: { max_replication_slots: 1 }, message: /all 1 replication slots of the source server are in use \(max_replication_slots = 1\).*drop one that nothing uses/, occupy: true },
])('logical capture on a source with $label', ({ settings, message, occupy }) => {
  let server: RunningPg;
  let dir: string;
  beforeAll(async () => {
    const binaries = inject('pgLabel').includes('PostgreSQL 15') ? debianBinaries(15) : await embeddedBinaries();
    if (!binaries) throw new Error('PostgreSQL binaries not found');
    server = await startPostgres({ binaries, fast: true, settings: { wal_level: 'logical', ...settings } });
    dir = mkdtempSync(join(tmpdir(), 'logi-settings-'));
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses with exit 2, names the setting, and creates nothing', async () => {
    const pool = createPool(server.url(), { max: 1 });
    try {
      await pool.query(`CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 20) g`);
      if (occupy) await pool.query(`SELECT pg_create_logical_replication_slot('someone_elses', 'pgoutput')`);
      const spec = { version: 1, name: 'settings', source: { connection: { url: server.url() }, table: 'items', replication: {} }, target: { connection: { url: server.url() }, table: 'items_copy' } };
      const file = join(dir, 'flow.json');
      writeFileSync(file, JSON.stringify(spec));
      const r = await runCli(['watch', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      const names = logicalNames(parseFlow(spec));
      expect((await pool.query(`SELECT slot_name FROM pg_replication_slots ORDER BY 1`)).rows.map((x) => x.slot_name)).toEqual(occupy ? ['someone_elses'] : []);
      expect((await pool.query(`SELECT count(*) AS n FROM pg_publication WHERE pubname = $1`, [names.publication])).rows[0].n).toBe('0');
      expect((await pool.query(`SELECT to_regclass('items_copy') AS t`)).rows[0].t).toBeNull();
    } finally {
      await pool.end();
    }
  });
});
