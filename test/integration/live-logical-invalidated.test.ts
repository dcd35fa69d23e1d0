import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { debianBinaries, embeddedBinaries, startPostgres, type RunningPg } from '../../core/embedded/pg-server';
import { createPool } from '../../core/connections/pool';
import { parseFlow } from '../../core/flow/load';
import { logicalNames } from '../../core/live';
import type { FlowContext } from '../../core/target';
import { Engine } from '../../core/app/engine';
import { MemorySecretStore } from '../../core/settings/secret-store';
import { createDispatcher } from '../../core/api/dispatcher';
import type { ApiEvent } from '../../core/api/events';
import type { ListenerStatus } from '../../core/api/model';
import { call as callApi } from '../support/api';
import { waitFor, waitForSameRows, watch } from '../support/live';

const binariesFor = async () => {
  const b = inject('pgLabel').includes('PostgreSQL 15') ? debianBinaries(15) : await embeddedBinaries();
  if (!b) throw new Error('PostgreSQL binaries not found');
  return b;
};

// An invalidated slot, for real: a server of our own with max_slot_wal_keep_size = 1 MB; with the
// watch stopped, WAL is generated (pg_switch_wal + CHECKPOINT on that server) until the server marks
// the slot 'lost'. The watch then fails saying so and offering a resync (status slot.lost, for the
// monitor's Resync button); `tablesync watch --resync` and the API's flows.watchStart {resync}
// each drop and recreate the slot and run a full catch-up: target = filtered source.
describe('logical capture: an invalidated slot (max_slot_wal_keep_size)', () => {
  let server: RunningPg;
  let admin: pg.Pool;
  let src: pg.Pool;
  let tgt: pg.Pool;
  let ctx: FlowContext;
  let srcUrl: string;
  let tgtUrl: string;
  const FILTERED = `SELECT id, grp, body FROM items WHERE grp <> 3 ORDER BY id`;
  const flowSpec = (): Record<string, unknown> => ({ version: 1, name: 'logi_lost', source: { connection: { url: srcUrl }, table: 'items', filter: 'grp <> 3', replication: {} }, target: { connection: { url: tgtUrl }, table: 'items' } });
  const same = (what: string) => waitForSameRows(what, src, FILTERED, tgt, `SELECT id, grp, body FROM items ORDER BY id`, 30_000);
  const slotName = () => logicalNames(ctx.flow).slot;
  const walStatus = async () => (await src.query<{ wal_status: string | null }>(`SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1`, [slotName()])).rows[0]?.wal_status;

  /** With nothing reading the slot, write and switch WAL segments and checkpoint until the server invalidates it. */
  const invalidate = async () => {
    expect(await walStatus()).toBe('reserved');
    await waitFor('the slot invalidated', async () => {
      await admin.query(`INSERT INTO churn SELECT g, repeat('x', 500) FROM generate_series(1, 2000) g`);
      await admin.query('SELECT pg_switch_wal()');
      await admin.query('CHECKPOINT');
      return (await walStatus()) === 'lost';
    }, 60_000, 10);
  };

  beforeAll(async () => {
    server = await startPostgres({ binaries: await binariesFor(), fast: true, settings: { wal_level: 'logical', max_slot_wal_keep_size: 1, max_wal_size: '32MB', min_wal_size: '32MB', max_replication_slots: 4, max_wal_senders: 4 } });
    admin = createPool(server.url(), { max: 1 });
    await admin.query('CREATE DATABASE src');
    await admin.query('CREATE DATABASE tgt');
    await admin.query('CREATE TABLE churn (id int, pad text)');
    srcUrl = server.url('src');
    tgtUrl = server.url('tgt');
    src = createPool(srcUrl, { max: 2 });
    tgt = createPool(tgtUrl, { max: 1 });
    await src.query(`CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, body text)`);
    await src.query(`INSERT INTO items SELECT g, g % 10, 'b' || g FROM generate_series(1, 200) g`);
    ctx = { flow: parseFlow(flowSpec()), sourcePool: createPool(srcUrl, { max: 2 }), targetPool: createPool(tgtUrl, { max: 1 }), sourceUrl: srcUrl, targetUrl: tgtUrl };
  });
  afterAll(async () => {
    for (const p of [admin, src, tgt, ctx?.sourcePool, ctx?.targetPool]) await p?.end().catch(() => {});
    await server?.stop();
  });

  it('says the slot was invalidated and offers a resync; `tablesync watch --resync` recovers', async () => {
    const w = watch(ctx);
    await w.live();
    await same('first load');
    await w.stop();

    // changes while nobody reads the slot, then the slot loses its WAL
    await src.query(`UPDATE items SET body = 'while lost' WHERE id BETWEEN 1 AND 20`);
    await src.query(`DELETE FROM items WHERE id = 50`);
    await src.query(`UPDATE items SET grp = 3 WHERE id = 51`); // leaves the filter
    await invalidate();

    const w2 = watch(ctx);
    await expect(w2.handle.done).rejects.toThrow(/replication slot "tablesync_logi_lost_[0-9a-f]{8}" was invalidated: .*max_slot_wal_keep_size.*Resync: `tablesync watch FLOW.json --resync`/);
    const failed = w2.statuses.find((s) => s.state === 'failed');
    expect(failed?.slot).toMatchObject({ name: slotName(), lost: true });

    const dir = mkdtempSync(join(tmpdir(), 'logi-lost-'));
    try {
      writeFileSync(join(dir, 'flow.json'), JSON.stringify(flowSpec()));
      // without --resync the CLI refuses (exit 2) and says how to get back
      const refused = await runCli(['watch', join(dir, 'flow.json')], () => false);
      expect(refused.code).toBe(2);
      expect(refused.err).toMatch(/was invalidated.*--resync/);

      const child = spawn(process.execPath, ['bin/tablesync.mjs', 'watch', join(dir, 'flow.json'), '--resync', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout!.resume();
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        await waitFor('the resynced CLI watch live', () => err.includes('"state":"live"'), 30_000);
        await same('after the resync (CLI)');
        expect(await walStatus()).toBe('reserved');
        expect(err).toMatch(/new replication slot/);
        await src.query(`INSERT INTO items VALUES (300, 1, 'after resync')`);
        await same('live again after the resync');
      } catch (e) {
        throw new Error(`${(e as Error).message}\nstderr: ${err.slice(-2000)}`);
      } finally {
        child.kill('SIGINT');
        await exited;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('through the API: the failed status carries slot.lost, and flows.watchStart {resync: true} recovers', async () => {
    await src.query(`UPDATE items SET body = 'lost again' WHERE id BETWEEN 30 AND 40`);
    await src.query(`UPDATE items SET grp = 1 WHERE id = 51`); // enters the filter again
    await invalidate();

    const dataDir = mkdtempSync(join(tmpdir(), 'logi-lost-api-'));
    const engine = new Engine({ dataDir, mode: 'browser', secrets: new MemorySecretStore() });
    const events: ApiEvent[] = [];
    engine.events.on((e) => events.push(e));
    const api = createDispatcher(engine);
    const call = <T = unknown>(method: string, input?: unknown) => callApi<T>(api, method, input);
    const statuses = () => events.filter((e) => e.event === 'flow.listener').map((e) => e.payload as ListenerStatus);
    try {
      await call('connections.save', { name: 'src', connection: { url: srcUrl } });
      await call('connections.save', { name: 'tgt', connection: { url: tgtUrl } });
      await call('flows.save', { flow: { ...flowSpec(), source: { connection: { saved: 'src' }, table: 'items', filter: 'grp <> 3', replication: {} }, target: { connection: { saved: 'tgt' }, table: 'items' } } });
      await call('flows.watchStart', { name: 'logi_lost' });
      const failed = await waitFor('the watch failed', () => statuses().find((s) => s.state === 'failed'));
      expect(failed.slot).toMatchObject({ name: slotName(), lost: true });
      expect(failed.reason).toMatch(/was invalidated/);
      await waitFor('the failed watch gone from the list', async () => (await call<unknown[]>('flows.watchList')).length === 0);
      // the last status the monitor sees (watchList's status and the bus) still says lost
      expect(statuses().at(-1)).toMatchObject({ state: 'failed', slot: { lost: true } });

      events.length = 0;
      await call('flows.watchStart', { name: 'logi_lost', resync: true });
      const live = await waitFor('live after the resync', () => statuses().find((s) => s.state === 'live' && s.catchUp));
      expect(live.catchUp).toMatchObject({ mode: 'full', reason: expect.stringMatching(/new replication slot/) });
      await same('after the resync (API)');
      expect(await walStatus()).toBe('reserved');
      await call('flows.watchStop', { name: 'logi_lost' });
    } finally {
      await engine.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

function runCli(args: string[], until: (err: string) => boolean): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/tablesync.mjs', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); if (until(err)) child.kill('SIGINT'); });
    child.on('exit', (code) => resolve({ code, err }));
  });
}

// The wal_level check, on a server that cannot do logical decoding: what to change, and that it needs a restart.
describe('logical capture on a server with wal_level = replica', () => {
  let server: RunningPg;
  afterAll(async () => { await server?.stop(); });

  it('refuses with what to change (and that the server must restart), writing nothing', async () => {
    server = await startPostgres({ binaries: await binariesFor(), fast: true, settings: { wal_level: 'replica' } });
    const admin = createPool(server.url(), { max: 1 });
    try {
      await admin.query('CREATE DATABASE src');
      await admin.query('CREATE DATABASE tgt');
      const s = createPool(server.url('src'), { max: 1 });
      await s.query(`CREATE TABLE items (id int PRIMARY KEY, v text)`);
      const flow = parseFlow({ version: 1, name: 'logi_replica', source: { connection: { url: server.url('src') }, table: 'items', replication: {} }, target: { connection: { url: server.url('tgt') }, table: 'items' } });
      const c: FlowContext = { flow, sourcePool: s, targetPool: createPool(server.url('tgt'), { max: 1 }), sourceUrl: server.url('src'), targetUrl: server.url('tgt') };
      const w = watch(c);
      await expect(w.handle.done).rejects.toThrow(/the source server has wal_level = replica; logical-replication capture needs wal_level = logical.*ALTER SYSTEM SET wal_level = logical.*restart the server/);
      expect(w.statuses.at(-1)?.state).toBe('failed');
      expect((await s.query(`SELECT count(*) AS n FROM pg_publication`)).rows[0].n).toBe('0');
      expect((await s.query(`SELECT count(*) AS n FROM pg_replication_slots`)).rows[0].n).toBe('0');
      const t = createPool(server.url('tgt'), { max: 1 });
      expect((await t.query(`SELECT to_regclass('public.items') IS NULL AS none`)).rows[0].none).toBe('t');
      await t.end();
      await s.end();
      await c.targetPool.end();
    } finally {
      await admin.end();
    }
  });
});
