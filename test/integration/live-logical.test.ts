import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlow } from '../../core/flow/load';
import { dropFlow, type FlowContext } from '../../core/target';
import { logicalNames } from '../../core/live';
import { dropPartsFor } from '../../core/app/drop-parts';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitFor, waitForSameRows, watch, type Watching } from '../support/live';

// Logical-replication capture: a publication and a pgoutput slot, no trigger. The stream's data
// is applied directly (the filter evaluated by the source over the streamed values), the slot is
// acknowledged after the target commits, a restart resumes from the slot (a catch-up of what
// changed, not a scan), a SIGKILLed watch loses and duplicates nothing, drop removes slot and
// publication. After each step the target equals the filtered source.
describe('logical-replication capture', () => {
  let t: Pair;
  let ctx: FlowContext;
  let w: Watching | undefined;
  const FILTERED = `SELECT id, grp, body FROM items WHERE grp <> 3`;
  const same = (what: string) => waitForSameRows(what, t.src.pool, FILTERED, t.tgt.pool, `SELECT id, grp, body FROM items`, 30_000);
  const flowSpec = { name: 'logi', source: { table: 'items', filter: 'grp <> 3', replication: {} }, target: { table: 'items' } };

  beforeAll(async () => {
    t = await sourceAndTarget('logi');
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, body text)`);
    await t.src.sql(`INSERT INTO items SELECT g, g % 10, 'b' || g FROM generate_series(1, 200) g`);
    ctx = t.ctx(flowSpec);
  });
  afterAll(async () => {
    await w?.stop();
    // never leave a slot behind on the shared server (it would hold WAL)
    const names = logicalNames(ctx.flow);
    await t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [names.slot]).catch(() => {});
    await t?.close();
  });

  it('refuses a source with both notification and replication', () => {
    expect(() => parseFlow({ version: 1, name: 'x', source: { connection: { url: t.src.url }, table: 'items', notification: {}, replication: {} }, target: { connection: { url: t.tgt.url }, table: 'x' } }))
      .toThrow(/either by notification .* or by replication/);
  });

  it('creates slot and publication (no trigger), loads the table, and applies inserts, updates, deletes, key changes, filter moves and TRUNCATE from the stream', async () => {
    w = watch(ctx);
    await w.live();
    expect(w.catchUps[0]?.catchUp).toMatchObject({ mode: 'full', reason: expect.stringMatching(/new replication slot/) });
    await same('initial load');
    const names = logicalNames(ctx.flow);
    expect((await t.src.sql(`SELECT plugin FROM pg_replication_slots WHERE slot_name = $1`, [names.slot])).rows).toEqual([{ plugin: 'pgoutput' }]);
    expect((await t.src.sql(`SELECT count(*) AS n FROM pg_trigger WHERE tgrelid = 'items'::regclass AND NOT tgisinternal`)).rows[0].n).toBe('0');

    await t.src.sql(`INSERT INTO items VALUES (201, 1, 'new'), (202, 3, 'filtered')`);
    await t.src.sql(`UPDATE items SET body = 'changed' WHERE id = 5`);
    await t.src.sql(`DELETE FROM items WHERE id = 6`);
    await t.src.sql(`UPDATE items SET id = 1006 WHERE id = 7`); // key change
    await t.src.sql(`UPDATE items SET grp = 3 WHERE id = 8`); // leaves the filter
    await t.src.sql(`UPDATE items SET grp = 1 WHERE id = 13`); // enters it
    await t.src.sql(`BEGIN; UPDATE items SET body = 'twice' WHERE id = 9; UPDATE items SET body = 'thrice' WHERE id = 9; COMMIT`);
    await same('row changes applied');
    const byKey = (id: string) => w!.events.filter((e) => e.key.id === id).map((e) => e.outcome);
    expect(byKey('201')).toContain('applied');
    expect(byKey('202')).toContain('filtered-out');
    expect(byKey('6')).toContain('deleted');
    expect(byKey('7')).toContain('deleted');
    expect(byKey('1006')).toContain('applied');
    expect(byKey('8')).toContain('filtered-out');

    await t.src.sql(`BEGIN; TRUNCATE items; INSERT INTO items VALUES (1, 1, 'after truncate'), (2, 3, 'out'); COMMIT`);
    await same('after TRUNCATE');
    await t.src.sql(`INSERT INTO items SELECT g, g % 10, 'again' || g FROM generate_series(10, 120) g`);
    await same('refilled');
    await w.stop();
    w = undefined;
  });

  it('resumes from the slot after a restart: the catch-up replays what changed, not the table', async () => {
    await t.src.sql(`UPDATE items SET body = 'while stopped' WHERE id BETWEEN 20 AND 29`);
    await t.src.sql(`DELETE FROM items WHERE id = 30`);
    w = watch(ctx);
    await w.live();
    const c = w.catchUps[0]?.catchUp;
    expect(c).toMatchObject({ mode: 'slot', scanned: null });
    expect(c!.rows).toBe(11);
    await same('caught up from the slot');
    const live = w.statuses.find((s) => s.state === 'live');
    expect(live?.slot).toMatchObject({ name: logicalNames(ctx.flow).slot, lagBytes: expect.any(Number) });
    await w.stop();
    w = undefined;
  });

  it('resuming a slot when the target needs an apply first (a dropped column): a scan while the stream is already open, then the stream; nothing lost', async () => {
    await t.tgt.sql(`ALTER TABLE items DROP COLUMN body`); // hand-edited target: the flow needs an apply
    await t.src.sql(`UPDATE items SET body = 'while stale' WHERE id BETWEEN 40 AND 44`);
    await t.src.sql(`INSERT INTO items VALUES (300, 1, 'stale insert')`);
    w = watch(ctx);
    try {
      await w.live();
      const c = w.catchUps[0]?.catchUp;
      expect(c?.mode).toBe('full'); // not 'slot': the target was brought back by a scan
      await same('scanned, then the stream');
      expect((await t.tgt.sql(`SELECT body FROM items WHERE id = 300`)).rows).toEqual([{ body: 'stale insert' }]);
      await t.src.sql(`UPDATE items SET body = 'after the scan' WHERE id = 45`);
      await same('a change after the scan arrives from the stream');
    } finally {
      await w.stop();
      w = undefined;
    }
  });

  it('idle, the watch confirms what the stream passed; a clean stop moves the restart point past WAL that is not ours (the next start decodes only what changed)', async () => {
    const names = logicalNames(ctx.flow);
    w = watch(ctx);
    await w.live();
    // ~25 MB of WAL the slot does not publish (another table), written while the watch is live
    await t.src.sql(`CREATE TABLE logi_junk AS SELECT g, repeat('x', 1000) AS pad FROM generate_series(1, 24000) g`);
    const after = (await t.src.sql(`SELECT pg_current_wal_lsn()::text AS l`)).rows[0].l as string;
    // idle, the watch confirms what the stream has passed (keepalives), so the slot holds none of that WAL
    await waitFor('the idle watch confirmed past the other WAL', async () => (await t.src.sql(`SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $1`, [names.slot, after])).rows[0]?.ok === 't');
    await w.stop();
    w = undefined;
    const slot = (await t.src.sql(`SELECT restart_lsn >= $2::pg_lsn AS restart_past, confirmed_flush_lsn >= $2::pg_lsn AS confirmed_past,
        confirmed_flush_lsn <= pg_current_wal_lsn() AS confirmed_not_beyond FROM pg_replication_slots WHERE slot_name = $1`, [names.slot, after])).rows[0];
    await t.src.sql(`DROP TABLE logi_junk`);
    expect(slot).toEqual({ restart_past: 't', confirmed_past: 't', confirmed_not_beyond: 't' });
  });

  it('survives a SIGKILL of the watch mid-stream: nothing lost, nothing twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logi-'));
    try {
      writeFileSync(join(dir, 'flow.json'), JSON.stringify({ version: 1, ...flowSpec, source: { connection: { url: t.src.url }, ...flowSpec.source }, target: { connection: { url: t.tgt.url }, ...flowSpec.target } }));
      const child = spawn(process.execPath, ['bin/tablesync.mjs', 'watch', join(dir, 'flow.json'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      let out = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      await waitFor('the CLI watch live', () => err.includes('"state":"live"'), 30_000);
      // a counter incremented by many transactions: a change applied twice or lost would show
      await t.src.sql(`INSERT INTO items VALUES (500, 1, '0') ON CONFLICT (id) DO UPDATE SET body = '0'`);
      let n = 0;
      const writing = (async () => {
        for (; n < 400; n++) await t.src.sql(`UPDATE items SET body = (body::int + 1)::text WHERE id = 500`);
      })();
      try {
        await waitFor('some changes applied by the CLI', () => n >= 150 && out.split('\n').filter((l) => l.includes('"500"')).length >= 3, 30_000);
      } catch (e) {
        child.kill('SIGKILL');
        throw new Error(`${(e as Error).message}\nstderr: ${err.slice(-2000)}\nstdout: ${out.slice(-1000)}`);
      }
      child.kill('SIGKILL');
      await exited;
      await writing;
      // the killed process's sessions end when the servers notice its sockets closed
      await waitFor('the killed watch\'s flow lock released', async () => (await t.tgt.sql(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)).rows[0].n === '0');
      w = watch(ctx);
      await w.live();
      await same('after the SIGKILL');
      expect((await t.tgt.sql(`SELECT body FROM items WHERE id = 500`)).rows).toEqual([{ body: '400' }]);
      await w.stop();
      w = undefined;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a busy stream (one-row transactions from 4 writers at once): the target equals the source, each change once; a clean stop confirms the end, so a restart replays nothing', async () => {
    const names = logicalNames(ctx.flow);
    // gathering batches (above ~1,000 changes a second) and spaced confirmations are on this path
    w = watch(ctx);
    await w.live();
    await t.src.sql(`INSERT INTO items SELECT 600 + g, 1, '0' FROM generate_series(1, 4) g ON CONFLICT (id) DO UPDATE SET body = '0', grp = 1`);
    await Promise.all([1, 2, 3, 4].map(async (g) => {
      for (let i = 0; i < 300; i++) await t.src.sql(`UPDATE items SET body = (body::int + 1)::text WHERE id = $1`, [600 + g]);
    }));
    await t.src.sql(`INSERT INTO items SELECT g, g % 10, 'busy' FROM generate_series(700, 760) g`);
    const end = (await t.src.sql(`SELECT pg_current_wal_lsn()::text AS l`)).rows[0].l as string;
    await same('after the busy stream');
    expect((await t.tgt.sql(`SELECT body FROM items WHERE id BETWEEN 601 AND 604 ORDER BY id`)).rows).toEqual([{ body: '300' }, { body: '300' }, { body: '300' }, { body: '300' }]);
    await w.stop();
    w = undefined;
    expect((await t.src.sql(`SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $1`, [names.slot, end])).rows).toEqual([{ ok: 't' }]);
    w = watch(ctx);
    await w.live();
    expect(w.catchUps[0]?.catchUp).toMatchObject({ mode: 'slot', rows: 0 });
    await same('after the restart');
    await w.stop();
    w = undefined;
  });

  it('drop removes the slot and the publication', async () => {
    const names = logicalNames(ctx.flow);
    await dropFlow(ctx, dropPartsFor(ctx.flow), { allowDestructive: true });
    expect((await t.src.sql(`SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = $1`, [names.slot])).rows[0].n).toBe('0');
    expect((await t.src.sql(`SELECT count(*) AS n FROM pg_publication WHERE pubname = $1`, [names.publication])).rows[0].n).toBe('0');
  });

  it("refuses a slot it did not create (a slot has no marker: the flow's state says what is ours), and drop leaves it", async () => {
    const slot = 'someone_elses_slot';
    await t.src.sql(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
    try {
      const c2 = t.ctx({ ...flowSpec, name: 'logi_foreign', source: { ...flowSpec.source, replication: { slotName: slot } } });
      const w2 = watch(c2);
      await expect(w2.handle.done).rejects.toThrow(/replication slot "someone_elses_slot" already exists on the source and flow "logi_foreign" did not create it/);
      await dropFlow(c2, dropPartsFor(c2.flow), { allowDestructive: true }).catch(() => {});
      expect((await t.src.sql(`SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = $1`, [slot])).rows[0].n).toBe('1');
    } finally {
      await t.src.sql(`SELECT pg_drop_replication_slot($1)`, [slot]);
    }
  });

  it('says what to change when the role lacks REPLICATION', async () => {
    await t.src.sql(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'logi_norepl') THEN CREATE ROLE logi_norepl LOGIN; END IF; END $$`);
    await t.src.sql(`GRANT SELECT ON items TO logi_norepl`);
    const url = new URL(t.src.url);
    url.username = 'logi_norepl';
    url.password = '';
    const c2 = t.ctx({ ...flowSpec, name: 'logi_norepl' });
    const ctx2: FlowContext = { ...c2, sourceUrl: url.toString(), sourcePool: (await import('../../core/connections/pool')).createPool(url.toString(), { max: 1 }) };
    const w2 = watch(ctx2);
    await expect(w2.handle.done).rejects.toThrow(/needs the REPLICATION attribute .*ALTER ROLE "?logi_norepl"? REPLICATION/);
    await ctx2.sourcePool.end();
  });
});

describe('logical-replication capture of a partitioned table', () => {
  let t: Pair;
  afterAll(async () => { await t?.close(); });
  beforeAll(async () => {
    t = await sourceAndTarget('logip');
    await t.src.sql(`CREATE TABLE m (id int, region text, v int, PRIMARY KEY (id, region)) PARTITION BY LIST (region)`);
    await t.src.sql(`CREATE TABLE m_eu PARTITION OF m FOR VALUES IN ('eu')`);
    await t.src.sql(`CREATE TABLE m_us PARTITION OF m FOR VALUES IN ('us')`);
    await t.src.sql(`INSERT INTO m SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, g FROM generate_series(1, 50) g`);
  });

  it('publishes through the root: changes in every partition arrive, and a row moving between partitions too', async () => {
    const ctx = t.ctx({ name: 'logip', source: { table: 'm', replication: { slotName: 'logip_slot', publicationName: 'logip_pub' } }, target: { table: 'm' } });
    const w = watch(ctx);
    try {
      await w.live();
      await t.src.sql(`INSERT INTO m VALUES (100, 'eu', 1), (101, 'us', 1)`);
      await t.src.sql(`UPDATE m SET v = v + 100 WHERE id <= 10`);
      await t.src.sql(`UPDATE m SET region = 'us' WHERE id = 2`); // moves partition: delete + insert under the root
      await t.src.sql(`DELETE FROM m WHERE id = 3`);
      await waitForSameRows('target = source', t.src.pool, `SELECT * FROM m`, t.tgt.pool, `SELECT * FROM m`);
      expect((await t.src.sql(`SELECT pubviaroot FROM pg_publication WHERE pubname = 'logip_pub'`)).rows).toEqual([{ pubviaroot: 't' }]);
    } finally {
      await w.stop();
      await dropFlow(ctx, dropPartsFor(ctx.flow), { allowDestructive: true });
    }
    expect((await t.src.sql(`SELECT count(*) AS n FROM pg_replication_slots WHERE slot_name = 'logip_slot'`)).rows[0].n).toBe('0');
  });
});
