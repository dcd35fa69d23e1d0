import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { createPool } from '../../core/connections/pool';
import { parseFlow } from '../../core/flow/load';
import { applyFlow, dropFlow, verifyFlow, type FlowContext } from '../../core/target';
import { freshDatabase, type TestDatabase } from '../support/db';

// verify across two different servers: the project's PostgreSQL 18 (no pgvector) as the source and
// PGlite with pgvector as the target (one connection, no COPY FROM STDIN). The source has no vector
// type, so `emb` (real[] → vector(3)) is compared by casting the target's vector back to real[], and
// `lit` (text holding vector literals the way a person writes them, '[1.50, 2]') by sending the
// source's text to be cast on the target: both equal right after apply, a hand edit of either found.
describe('verify with vector columns on PGlite', () => {
  let src: TestDatabase;
  let target: pg.Pool;
  const schema = `vv_${randomBytes(4).toString('hex')}`;
  const pools: pg.Pool[] = [];
  const ctx = (): FlowContext => {
    const flow = parseFlow({
      version: 1,
      name: `verify_${schema}`,
      source: { connection: { url: src.url }, table: 'docs' },
      target: { connection: { url: inject('vectorUrl') }, schema, table: 'docs', columns: { emb: { type: 'vector(3)' }, lit: { type: 'vector(2)' } } },
    });
    const sourcePool = createPool(src.url, { max: 2 });
    pools.push(sourcePool);
    return { flow, sourcePool, targetPool: target, sourceUrl: src.url, targetUrl: inject('vectorUrl') };
  };

  beforeAll(async () => {
    src = await freshDatabase('vvsrc', inject('pgUrl'));
    await src.sql(`CREATE TABLE docs (id int PRIMARY KEY, title text, emb real[], lit text)`);
    await src.sql(`INSERT INTO docs SELECT g, 'doc ' || g, ARRAY[g / 3.0, g / 2.0, -g]::real[], '[' || (g / 4.0)::numeric(8,2) || ', 2]' FROM generate_series(1, 60) g`);
    target = createPool(inject('vectorUrl'), { max: 1 });
  });
  afterAll(async () => {
    await dropFlow(ctx(), [], { allowDestructive: true }).catch(() => {});
    await target?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await target?.end();
    for (const p of pools) await p.end();
    await src?.drop();
  });

  it('is equal after apply, finds a hand-edited vector, and apply --repair fixes it', async () => {
    await applyFlow(ctx());
    const clean = await verifyFlow(ctx());
    expect(clean).toMatchObject({ equal: true, method: 'rows', sourceRows: 60, targetRows: 60, unverifiedColumns: [] });
    await target.query(`UPDATE ${schema}.docs SET emb = '[9,9,9]' WHERE id = 2`);
    await target.query(`UPDATE ${schema}.docs SET lit = '[0.5,3]' WHERE id = 3`);
    await target.query(`DELETE FROM ${schema}.docs WHERE id = 4`);
    const drift = await verifyFlow(ctx());
    expect(drift.counts).toEqual({ changed: 2, missing: 1, extra: 0, notOwned: 0 });
    expect(drift.changed.map((r) => [r.key, r.changed])).toEqual([[{ id: '2' }, ['emb']], [{ id: '3' }, ['lit']]]);
    expect(drift.changed[1]!).toMatchObject({ before: { lit: '[0.5,3]' }, after: { lit: '[0.75,2]' } });
    expect((await applyFlow(ctx(), { repair: true })).repaired).toEqual({ changed: 2, missing: 1, extra: 0 });
    expect((await verifyFlow(ctx())).equal).toBe(true);
  });
});
