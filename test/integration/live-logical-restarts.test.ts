import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type pg from 'pg';
import { debianBinaries, embeddedBinaries, startPostgres, type RunningPg } from '../../core/embedded/pg-server';
import { createPool } from '../../core/connections/pool';
import { parseFlow } from '../../core/flow/load';
import type { FlowContext } from '../../core/target';
import { freshDatabase, type TestDatabase } from '../support/db';
import { waitFor, waitForSameRows, watch, type Watching } from '../support/live';

// Logical capture through server restarts (each its own server of this project's version, with
// wal_level=logical): a writer keeps going through the restart; the watch reconnects with backoff,
// resumes from the slot, and afterwards the target equals the source.
describe.each(['source', 'target', 'target-crash'] as const)('logical capture: %s server restarted during watch', (variant) => {
  // target-crash: the target's server is shut down immediately (no checkpoint; async-committed
  // batches whose WAL was not written are lost): their source positions were not confirmed yet
  const side = variant === 'source' ? 'source' : 'target';
  let server: RunningPg;
  let other: TestDatabase;
  let srcPool: pg.Pool;
  let tgtPool: pg.Pool;
  let ctx: FlowContext;
  let w: Watching | undefined;

  beforeAll(async () => {
    const binaries = inject('pgLabel').includes('PostgreSQL 15') ? debianBinaries(15) : await embeddedBinaries();
    if (!binaries) throw new Error('PostgreSQL binaries not found');
    server = await startPostgres({ binaries, fast: true, settings: { wal_level: 'logical', max_replication_slots: 4, max_wal_senders: 4 } });
    other = await freshDatabase(`logi_r${variant === 'target-crash' ? 'c' : side[0]}`);
    const srcUrl = side === 'source' ? server.url() : other.url;
    const tgtUrl = side === 'source' ? other.url : server.url();
    srcPool = createPool(srcUrl, { max: 2 });
    tgtPool = createPool(tgtUrl, { max: 1 });
    await srcPool.query(`CREATE TABLE counters (id int PRIMARY KEY, n bigint NOT NULL)`);
    await srcPool.query(`INSERT INTO counters SELECT g, 0 FROM generate_series(1, 300) g`);
    const flow = parseFlow({ version: 1, name: `logi_restart_${variant.replace('-', '_')}`, source: { connection: { url: srcUrl }, table: 'counters', replication: {} }, target: { connection: { url: tgtUrl }, table: 'counters' } });
    ctx = { flow, sourcePool: createPool(srcUrl, { max: 2 }), targetPool: createPool(tgtUrl, { max: 1 }), sourceUrl: srcUrl, targetUrl: tgtUrl };
    w = watch(ctx);
    await w.live();
  });
  afterAll(async () => {
    await w?.stop();
    for (const p of [srcPool, tgtPool, ctx?.sourcePool, ctx?.targetPool]) await p?.end().catch(() => {});
    if (side === 'target') await other.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database() AND NOT active`).catch(() => {});
    await other?.drop();
    await server?.stop();
  });

  it('reconnects, resumes from the slot, and the target equals the source', async () => {
    let stop = false;
    let written = 0;
    const writing = (async () => {
      let i = 0;
      while (!stop) {
        i++;
        try {
          await srcPool.query(`UPDATE counters SET n = n + 1 WHERE id = $1`, [1 + (i % 300)]);
          if (i % 7 === 0) await srcPool.query(`INSERT INTO counters VALUES ($1, 0) ON CONFLICT DO NOTHING`, [1000 + i]);
          if (i % 11 === 0) await srcPool.query(`DELETE FROM counters WHERE id = $1`, [1 + ((i * 13) % 300)]);
          written++;
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
    await waitFor('some writes before the restart', () => written >= 200);
    await server.restart({ crash: variant === 'target-crash' });
    await w!.live(2, 60_000);
    await waitFor('more writes after the restart', () => written >= 600, 30_000);
    stop = true;
    await writing;
    await waitForSameRows('target = source', srcPool, `SELECT * FROM counters`, tgtPool, `SELECT * FROM counters`, 30_000);
    expect(w!.statuses.map((s) => s.state)).toContain('reconnecting');
    // the first catch-up loaded the table (new slot); every one after a restart replayed the slot
    const modes = w!.catchUps.map((e) => e.catchUp?.mode);
    expect(modes[0]).toBe('full');
    expect(modes.length).toBeGreaterThanOrEqual(2);
    expect(modes.slice(1).every((m) => m === 'slot')).toBe(true);
  });
});
