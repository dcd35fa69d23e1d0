import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { serverAccount, reachableTmpdir } from '../../core/embedded/server-account';
import type pg from 'pg';
import { createPool } from '../../core/connections/pool';
import { applyFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitFor, waitForSameRows, watch } from '../support/live';

// A connection pooler in transaction mode (PgBouncer's pool_mode = transaction, common in front of
// production databases) accepts LISTEN but cannot carry its notifications: a trigger watch through
// it went live and heard nothing. The listener sends itself a notification from another session
// after LISTEN: through such a pooler it never arrives, and the watch fails (exit 2) saying why. In
// session mode it arrives, and the watch works. Debian's pgbouncer (apt-get install pgbouncer).
const PGBOUNCER = '/usr/sbin/pgbouncer';
describe.skipIf(!existsSync(PGBOUNCER))('trigger capture through a connection pooler', () => {
  let t: Pair;
  const bouncers: ChildProcess[] = [];
  const freePort = () => new Promise<number>((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
  /** A pgbouncer in `mode` in front of the test server; the source URL through it. */
  const bouncer = async (mode: 'transaction' | 'session'): Promise<string> => {
    const runAs = serverAccount();
    const dir = mkdtempSync(join(reachableTmpdir(runAs), 'tablesync-pgb-'));
    const server = new URL(t.src.url);
    const port = await freePort();
    writeFileSync(join(dir, 'users.txt'), `"${decodeURIComponent(server.username)}" ""\n`);
    writeFileSync(join(dir, 'pgb.ini'), [
      '[databases]', `* = host=${server.hostname} port=${server.port}`,
      '[pgbouncer]', 'listen_addr = 127.0.0.1', `listen_port = ${port}`, 'auth_type = trust', `auth_file = ${join(dir, 'users.txt')}`,
      `pool_mode = ${mode}`, 'max_client_conn = 50', 'default_pool_size = 4', 'ignore_startup_parameters = extra_float_digits,options,application_name',
      `logfile = ${join(dir, 'pgb.log')}`, '',
    ].join('\n'));
    if (runAs) for (const f of ['', 'users.txt', 'pgb.ini']) chownSync(join(dir, f), runAs.uid, runAs.gid);
    const child = spawn(PGBOUNCER, [join(dir, 'pgb.ini')], { stdio: 'ignore', ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) });
    bouncers.push(child);
    const u = new URL(t.src.url);
    u.port = String(port);
    await waitFor('pgbouncer answers', async () => { try { const { default: pg } = await import('pg'); const c = new pg.Client({ connectionString: u.toString() }); await c.connect(); await c.end(); return true; } catch { return false; } }, 15_000, 100);
    return u.toString();
  };

  beforeAll(async () => {
    t = await sourceAndTarget('pgb');
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, v text)`);
    await t.src.sql(`INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 20) g`);
  });
  const pools: pg.Pool[] = [];
  const pool = (url: string) => { const p = createPool(url, { max: 2 }); pools.push(p); return p; };
  afterAll(async () => {
    for (const p of pools) await p.end().catch(() => {});
    for (const b of bouncers) b.kill('SIGTERM');
    await t?.close();
  });

  /** Flow `pgb_{name}` applied directly, then watched through a pooler in `mode` (its source URL the pooler's, as a user would give it). */
  const watchThrough = async (mode: 'transaction' | 'session', name: string) => {
    const url = await bouncer(mode);
    const ctx = t.ctx({ name: `pgb_${name}`, source: { table: 'items', notification: {} }, target: { table: `items_${name}` } });
    await applyFlow(ctx);
    return watch({ ...ctx, sourceUrl: url, sourcePool: pool(url) });
  };

  it('in transaction mode: the watch fails (UNSUPPORTED), naming the pooler; nothing is heard and nothing is claimed', async () => {
    const w = await watchThrough('transaction', 'tx');
    await expect(w.handle.done).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/do not reach the listening connection.*PgBouncer.*session mode/) });
    expect(w.statuses.some((s) => s.state === 'live')).toBe(false);
  });

  it('in session mode: the probe comes back, and changes arrive live', async () => {
    const w = await watchThrough('session', 's');
    try {
      await w.live();
      await t.src.sql(`UPDATE items SET v = 'changed' WHERE id <= 3`);
      await waitForSameRows('changes arrived through the pooler', t.src.pool, `SELECT id, v FROM items`, t.tgt.pool, `SELECT id, v FROM items_s`, 15_000);
      expect(w.events.filter((e) => e.op === 'update').length).toBeGreaterThanOrEqual(3);
    } finally {
      await w.stop();
    }
  });
});
