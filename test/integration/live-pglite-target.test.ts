import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startPgliteServer, type RunningPglite } from '../../core/embedded/pglite-server';
import { createPool, RAW_TYPES } from '../../core/connections/pool';
import { parseFlow } from '../../core/flow/load';
import { applyFlow, type FlowContext } from '../../core/target';
import { freshDatabase, type TestDatabase } from '../support/db';
import { rowsAsLines, waitFor, watch, type Watching } from '../support/live';

// A PGlite target (PostgreSQL 17 + pgvector behind a ONE-connection socket): the watch does all its
// target work on the single lock-holding connection, including the vector column's upserts.
describe('watch into a PGlite target with a vector column', () => {
  let src: TestDatabase;
  let lite: RunningPglite;
  let ctx: FlowContext;
  let w: Watching;
  let targetEnded = false;

  beforeAll(async () => {
    src = await freshDatabase('live_lite');
    await src.sql(`CREATE TABLE docs (id int PRIMARY KEY, title text, embedding text)`);
    await src.sql(`INSERT INTO docs VALUES (1, 'one', '[1,0,0]'), (2, 'two', '[0,1,0]')`);
    lite = await startPgliteServer();
    const flow = parseFlow({
      version: 1, name: 'live_lite',
      source: { connection: { url: src.url }, table: 'docs', notification: {} },
      target: { connection: { url: lite.url() }, table: 'docs', columns: { embedding: { type: 'vector(3)' } } },
    });
    ctx = { flow, sourcePool: createPool(src.url, { max: 2 }), targetPool: createPool(lite.url(), { max: 1 }), sourceUrl: src.url, targetUrl: lite.url() };
    await applyFlow(ctx);
    w = watch(ctx);
    await w.live();
  });
  afterAll(async () => {
    await w?.stop();
    await ctx?.sourcePool.end();
    if (!targetEnded) await ctx?.targetPool.end();
    await lite?.stop();
    await src?.drop();
  });

  it('applies changes; the target equals the source', async () => {
    await src.sql(`INSERT INTO docs VALUES (3, 'three', '[0,0,1]')`);
    await src.sql(`UPDATE docs SET embedding = '[0.5,0.5,0]' WHERE id = 1`);
    await src.sql(`DELETE FROM docs WHERE id = 2`);
    await waitFor('three events', () => w.events.length >= 3);
    await w.stop();
    await ctx.targetPool.end(); // PGlite serves one connection: free it for the check
    targetEnded = true;
    const check = new pg.Pool({ connectionString: lite.url(), max: 1, types: RAW_TYPES });
    try {
      // the socket takes a moment to accept a new session after the last one closed
      const got = await waitFor('PGlite to accept the check connection', () => rowsAsLines(check, `SELECT id, title, embedding::text AS embedding FROM docs`), 10_000, 100);
      expect(got).toEqual(
        await rowsAsLines(src.pool, `SELECT id, title, replace(embedding, ' ', '') AS embedding FROM docs`),
      );
    } finally {
      await check.end();
    }
    expect(w.events.map((e) => e.outcome)).not.toContain('failed');
  });
});
