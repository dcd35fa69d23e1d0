import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type pg from 'pg';
import { debianBinaries, embeddedBinaries, startPostgres, type RunningPg } from '../../core/embedded/pg-server';
import { createPool } from '../../core/connections/pool';
import { parseFlow } from '../../core/flow/load';
import { applyFlow, type FlowContext } from '../../core/target';
import { freshDatabase, type TestDatabase } from '../support/db';
import { waitFor, waitForSameRows, watch, type Watching } from '../support/live';

// The SOURCE SERVER restarts while watching (its own server, of this project's version): the
// listener notices, keeps retrying with backoff while the server is down, catches up when it is
// back, and afterwards the target equals the source, including what was written around the restart.
describe('source server restarted during watch', () => {
  let server: RunningPg;
  let tgt: TestDatabase;
  let srcPool: pg.Pool;
  let ctx: FlowContext;
  let pools: pg.Pool[];
  let w: Watching;

  beforeAll(async () => {
    const binaries = inject('pgLabel').includes('PostgreSQL 15') ? debianBinaries(15) : await embeddedBinaries();
    if (!binaries) throw new Error('PostgreSQL binaries not found');
    server = await startPostgres({ binaries, fast: true });
    srcPool = createPool(server.url(), { max: 2 });
    await srcPool.query(`CREATE TABLE counters (id int PRIMARY KEY, n bigint NOT NULL, touched timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await srcPool.query(`INSERT INTO counters SELECT g, 0 FROM generate_series(1, 500) g`);
    tgt = await freshDatabase('live_restart');
    const flow = parseFlow({ version: 1, name: 'live_restart', source: { connection: { url: server.url() }, table: 'counters', ordinalColumn: 'touched', notification: {} }, target: { connection: { url: tgt.url }, table: 'counters' } });
    const sourcePool = createPool(server.url(), { max: 2 });
    const targetPool = createPool(tgt.url, { max: 1 });
    pools = [sourcePool, targetPool];
    ctx = { flow, sourcePool, targetPool, sourceUrl: server.url(), targetUrl: tgt.url };
    await applyFlow(ctx);
    w = watch(ctx);
    await w.live();
  });
  afterAll(async () => {
    await w?.stop();
    for (const p of [srcPool, ...(pools ?? [])]) await p?.end().catch(() => {});
    await tgt?.drop();
    await server?.stop();
  });

  it('reconnects after the restart and the target equals the source', async () => {
    let stop = false;
    let written = 0;
    // A writer that keeps going through the restart (its statements fail while the server is down).
    const writing = (async () => {
      let i = 0;
      while (!stop) {
        i++;
        try {
          await srcPool.query(`UPDATE counters SET n = n + 1, touched = clock_timestamp() WHERE id = $1`, [1 + (i % 500)]);
          if (i % 7 === 0) await srcPool.query(`INSERT INTO counters VALUES ($1, 0) ON CONFLICT DO NOTHING`, [1000 + i]);
          if (i % 11 === 0) await srcPool.query(`DELETE FROM counters WHERE id = $1`, [1 + ((i * 13) % 500)]);
          written++;
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
    await waitFor('some writes before the restart', () => written >= 300);
    await server.restart();
    await w.live(2);
    await waitFor('more writes after the restart', () => written >= 900, 30_000);
    stop = true;
    await writing;
    await waitForSameRows('target = source', srcPool, `SELECT * FROM counters`, tgt.pool, `SELECT * FROM counters`, 30_000);

    const states = w.statuses.map((s) => s.state);
    expect(states).toContain('reconnecting');
    expect(states.filter((s) => s === 'catching-up').length).toBeGreaterThanOrEqual(2);
    if (process.env.LIVE_DEBUG) console.log(w.statuses.map((s) => `${s.state} ${s.attempt ?? ''} ${s.reason ?? ''}`).join('\n'));
  });
});
