import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type pg from 'pg';
import { debianBinaries, embeddedBinaries, startPostgres, type RunningPg } from '../../core/embedded/pg-server';
import { createPool } from '../../core/connections/pool';
import { parseFlow } from '../../core/flow/load';
import { applyFlow, type FlowContext } from '../../core/target';
import { logicalNames } from '../../core/live';
import { flowCaptureNames } from '../../core/live/drop-parts';
import { runCli } from '../support/cli';
import { waitForSameRows, watch } from '../support/live';

// A source that allows prepared transactions (max_prepared_transactions > 0): PostgreSQL refuses to
// PREPARE a transaction that sent a notification, so the capture trigger would make every
// two-phase commit that writes the table fail. Trigger capture is refused there (exit 2, nothing
// created) unless the flow accepts it; logical capture streams prepared transactions when they commit.
describe('a source that allows prepared transactions', () => {
  let server: RunningPg;
  const pools: pg.Pool[] = [];
  let url: (db?: string) => string;
  const dir = mkdtempSync(join(tmpdir(), 'ts-2pc-'));

  beforeAll(async () => {
    const binaries = inject('pgLabel').includes('PostgreSQL 15') ? debianBinaries(15) : await embeddedBinaries();
    if (!binaries) throw new Error('PostgreSQL binaries not found');
    server = await startPostgres({ binaries, fast: true, settings: { max_prepared_transactions: 4, wal_level: 'logical', max_replication_slots: 4, max_wal_senders: 4 } });
    url = (db) => server.url(db);
    const admin = createPool(url(), { max: 1 });
    await admin.query('CREATE DATABASE src');
    await admin.query('CREATE DATABASE tgt');
    await admin.end();
    const src = pool('src');
    await src.query(`CREATE TABLE items (id int PRIMARY KEY, v text)`);
    await src.query(`INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 20) g`);
  });
  afterAll(async () => {
    for (const p of pools) await p.end().catch(() => {});
    await server?.stop();
  });
  const pool = (db: string) => { const p = createPool(url(db), { max: 2 }); pools.push(p); return p; };
  const ctxOf = (spec: Record<string, unknown>, table: string): FlowContext => {
    const flow = parseFlow({ version: 1, name: `tpc_${table}`, source: { connection: { url: url('src') }, table: 'items', ...spec }, target: { connection: { url: url('tgt') }, table } });
    return { flow, sourcePool: pool('src'), targetPool: pool('tgt'), sourceUrl: url('src'), targetUrl: url('tgt') };
  };
  const ourTriggers = async () => Number((await pool('src').query(`SELECT count(*) AS n FROM pg_trigger WHERE tgrelid = 'items'::regclass AND NOT tgisinternal`)).rows[0].n);

  it('trigger capture is refused, naming the setting and the ways out; nothing is created (the CLI exits 2)', async () => {
    const ctx = ctxOf({ notification: {} }, 'items_trigger');
    await applyFlow(ctx);
    const w = watch(ctx);
    await expect(w.handle.done).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/max_prepared_transactions = 4.*cannot PREPARE.*"replication": \{\}.*"acceptPrepareFailures": true/) });
    expect(await ourTriggers()).toBe(0);
    const file = join(dir, 'trigger.json');
    writeFileSync(file, JSON.stringify({ version: 1, name: 'tpc_items_trigger', source: { connection: { url: url('src') }, table: 'items', notification: {} }, target: { connection: { url: url('tgt') }, table: 'items_trigger' } }));
    const r = await runCli(['watch', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/max_prepared_transactions/);
    expect(await ourTriggers()).toBe(0);
  });

  it('accepted by the flow: the watch runs; a prepared transaction that writes the table fails, as the option says', async () => {
    const ctx = ctxOf({ notification: { acceptPrepareFailures: true } }, 'items_accepted');
    await applyFlow(ctx);
    const w = watch(ctx);
    const src = pool('src');
    try {
      await w.live();
      await src.query(`UPDATE items SET v = 'plain' WHERE id = 1`);
      await waitForSameRows('a plain write arrives', src, `SELECT id, v FROM items`, pool('tgt'), `SELECT id, v FROM items_accepted`, 15_000);
      const c = await src.connect();
      try {
        await c.query(`BEGIN; UPDATE items SET v = 'two-phase' WHERE id = 2`);
        await expect(c.query(`PREPARE TRANSACTION 'tpc_accepted'`)).rejects.toThrow(/cannot PREPARE a transaction that has executed LISTEN, UNLISTEN, or NOTIFY/);
      } finally {
        await c.query('ROLLBACK').catch(() => {});
        c.release();
      }
    } finally {
      await w.stop();
    }
  });

  it('logical capture: a prepared transaction prepares, and its changes arrive when it commits', async () => {
    const ctx = ctxOf({ replication: {} }, 'items_logical');
    const src = pool('src');
    // the trigger of the flow before is still on the table: its writes could not be prepared
    const names = flowCaptureNames(ctxOf({ notification: { acceptPrepareFailures: true } }, 'items_accepted').flow);
    for (const g of [names.rowTrigger, names.truncateTrigger]) await src.query(`DROP TRIGGER ${JSON.stringify(g)} ON items`);
    expect(await ourTriggers()).toBe(0);
    const w = watch(ctx);
    try {
      await w.live();
      const c = await src.connect();
      try {
        await c.query(`BEGIN; UPDATE items SET v = 'two-phase' WHERE id BETWEEN 3 AND 5; DELETE FROM items WHERE id = 6`);
        await c.query(`PREPARE TRANSACTION 'tpc_logical'`);
      } finally {
        c.release();
      }
      await src.query(`COMMIT PREPARED 'tpc_logical'`);
      await waitForSameRows('the prepared transaction arrived', src, `SELECT id, v FROM items`, pool('tgt'), `SELECT id, v FROM items_logical`, 15_000);
    } finally {
      await w.stop();
      await src.query(`SELECT pg_drop_replication_slot($1)`, [logicalNames(ctx.flow).slot]).catch(() => {});
    }
  });
});
