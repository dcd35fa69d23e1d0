import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type pg from 'pg';
import { debianBinaries, embeddedBinaries, startPostgres, type RunningPg } from '../../core/embedded/pg-server';
import { createPool } from '../../core/connections/pool';
import { parseFlow } from '../../core/flow/load';
import { applyFlow, type FlowContext } from '../../core/target';
import { freshDatabase, type TestDatabase } from '../support/db';
import { waitFor, waitForSameRows, watch, type Watching } from '../support/live';

// The TARGET server restarts while watching: the batch in flight fails (reported as failed events),
// the flow lock went with its connection, so the watch takes the lock again on a new connection,
// catches up, and afterwards the target equals the source.
describe('target server restarted during watch', () => {
  let server: RunningPg;
  let src: TestDatabase;
  let tgtPool: pg.Pool;
  let ctx: FlowContext;
  let w: Watching;

  beforeAll(async () => {
    const binaries = inject('pgLabel').includes('PostgreSQL 15') ? debianBinaries(15) : await embeddedBinaries();
    if (!binaries) throw new Error('PostgreSQL binaries not found');
    server = await startPostgres({ binaries, fast: true });
    src = await freshDatabase('live_trestart');
    await src.sql(`CREATE TABLE tasks (id int PRIMARY KEY, n int NOT NULL)`);
    await src.sql(`INSERT INTO tasks SELECT g, 0 FROM generate_series(1, 300) g`);
    const flow = parseFlow({ version: 1, name: 'live_trestart', source: { connection: { url: src.url }, table: 'tasks', notification: {} }, target: { connection: { url: server.url() }, table: 'tasks' } });
    ctx = { flow, sourcePool: createPool(src.url, { max: 2 }), targetPool: createPool(server.url(), { max: 1 }), sourceUrl: src.url, targetUrl: server.url() };
    tgtPool = createPool(server.url(), { max: 1 });
    await applyFlow(ctx);
    w = watch(ctx);
    await w.live();
  });
  afterAll(async () => {
    await w?.stop();
    await ctx?.sourcePool.end();
    await ctx?.targetPool.end();
    await tgtPool?.end();
    await src?.drop();
    await server?.stop();
  });

  it('takes the lock again, catches up, and the target equals the source', async () => {
    let stop = false;
    let i = 0;
    const writing = (async () => {
      while (!stop) {
        i++;
        await src.sql(`UPDATE tasks SET n = n + 1 WHERE id = $1`, [1 + (i % 300)]);
        if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
      }
    })();
    await waitFor('some writes', () => i >= 300);
    await server.restart();
    await w.live(2);
    await waitFor('writes after the restart', () => i >= 1500);
    stop = true;
    await writing;
    await waitForSameRows('target = source', src.pool, `SELECT * FROM tasks`, tgtPool, `SELECT * FROM tasks`);
    expect(w.statuses.some((s) => s.state === 'reconnecting')).toBe(true);
  });
});
