import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { createPool } from '../../core/connections/pool';
import { parseFlow } from '../../core/flow/load';
import { applyFlow, dropFlow, planFlow, syncKeys, type FlowContext } from '../../core/target';
import { freshDatabase, type TestDatabase } from '../support/db';

// Vector columns and pgvector indexes on a real PostgreSQL with pgvector (PGlite, one connection).
// The source is the project's PostgreSQL 18, which has no pgvector: its real[] embeddings become
// vector(n)/halfvec(n) in the target through a type override (real[] → vector has a cast in pgvector).
// So this also covers the PGlite load path (no COPY FROM STDIN over pglite-socket) and a target pool of one.
describe('vector columns and indexes', () => {
  let src: TestDatabase;
  let target: pg.Pool;
  const schema = `vt_${randomBytes(4).toString('hex')}`;
  const pools: pg.Pool[] = [];
  const ctx = (vectorIndexes: object[], extra: object = {}): FlowContext => {
    const flow = parseFlow({
      version: 1,
      name: `vec_${schema}`,
      source: { connection: { url: src.url }, table: 'docs' },
      target: { connection: { url: inject('vectorUrl') }, schema, table: 'docs', columns: { emb: { type: 'vector(3)' }, emb2: { type: 'halfvec(3)' } }, vectorIndexes, ...extra },
    });
    const sourcePool = createPool(src.url, { max: 2 });
    pools.push(sourcePool);
    return { flow, sourcePool, targetPool: target, sourceUrl: src.url, targetUrl: inject('vectorUrl') };
  };
  const indexes = async () => (await target.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE '%vector%' ORDER BY 1`, [schema])).rows;

  beforeAll(async () => {
    src = await freshDatabase('vsrc', inject('pgUrl'));
    await src.sql(`CREATE TABLE docs (id int PRIMARY KEY, title text, emb real[], emb2 real[])`);
    await src.sql(`INSERT INTO docs SELECT g, 'doc ' || g, ARRAY[g, g / 2.0, -g]::real[], ARRAY[1, g, 0.5]::real[] FROM generate_series(1, 40) g`);
    target = createPool(inject('vectorUrl'), { max: 1 });
  });
  afterAll(async () => {
    await target?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await target?.end();
    for (const p of pools) await p.end();
    await src?.drop();
  });

  it('creates the table with vector columns and an hnsw index, values intact', async () => {
    const c = ctx([{ column: 'emb', metric: 'cosine', method: 'hnsw', m: 8, efConstruction: 32 }]);
    const plan = await planFlow(c);
    expect(plan.blockers).toEqual([]);
    const idx = plan.steps.find((s) => s.kind === 'create-index')!;
    expect(idx.sql).toEqual([`CREATE INDEX "docs__vector__emb" ON "${schema}"."docs" USING hnsw ("emb" vector_cosine_ops) WITH (m = 8, ef_construction = 32)`]);
    expect(plan.steps.map((s) => s.kind).filter((k) => k !== 'create-extension')).toEqual(expect.arrayContaining(['create-schema', 'create-table', 'create-index']));
    await applyFlow(c);
    expect(await indexes()).toEqual([{ indexname: 'docs__vector__emb', indexdef: expect.stringMatching(/USING hnsw \(emb vector_cosine_ops\) WITH \(m='?8'?, ef_construction='?32'?\)/) }]);
    const r = (await target.query(`SELECT emb::text, emb2::text, format_type(a.atttypid, a.atttypmod) AS t FROM ${schema}.docs, pg_attribute a WHERE id = 4 AND a.attrelid = '${schema}.docs'::regclass AND a.attname = 'emb2'`)).rows[0];
    expect(r).toEqual({ emb: '[4,2,-4]', emb2: '[1,4,0.5]', t: 'halfvec(3)' });
    expect((await target.query(`SELECT count(*) AS n FROM ${schema}.docs`)).rows[0].n).toBe('40');
    const again = await planFlow(c);
    expect(again.steps).toEqual([]);
    expect(again.rows).toMatchObject({ unchanged: 40 });
  });

  it('recreates an index when its spec changes, adds a halfvec index, drops a removed one', async () => {
    const c = ctx([{ column: 'emb', metric: 'l2', method: 'ivfflat', lists: 5 }, { name: 'second', column: 'emb2', metric: 'ip', method: 'hnsw' }]);
    const plan = await planFlow(c);
    expect(plan.steps.map((s) => [s.kind, s.summary])).toEqual([
      ['recreate-index', 'recreate vector index "docs__vector__emb" (spec changed)'],
      ['create-index', 'create vector index "docs__vector__second"'],
    ]);
    await applyFlow(c);
    const ix = await indexes();
    expect(ix.map((i) => i.indexname)).toEqual(['docs__vector__emb', 'docs__vector__second']);
    expect(ix[0]!.indexdef).toMatch(/USING ivfflat \(emb( vector_l2_ops)?\) WITH \(lists='?5'?\)/); // vector_l2_ops is the default, so pg prints none
    expect(ix[1]!.indexdef).toMatch(/USING hnsw \(emb2 halfvec_ip_ops\)/);

    const c2 = ctx([{ name: 'second', column: 'emb2', metric: 'ip', method: 'hnsw' }]);
    const p2 = await planFlow(c2);
    expect(p2.steps.map((s) => s.kind)).toEqual(['drop-index']);
    await applyFlow(c2);
    expect((await indexes()).map((i) => i.indexname)).toEqual(['docs__vector__second']);
  });

  it('live key syncs work against a one-connection target', async () => {
    const c = ctx([{ name: 'second', column: 'emb2', metric: 'ip', method: 'hnsw' }]);
    await src.sql(`UPDATE docs SET emb = ARRAY[9, 9, 9]::real[] WHERE id = 1`);
    await src.sql(`DELETE FROM docs WHERE id = 2`);
    const r = await syncKeys(c, [['1'], ['2']]);
    expect(r).toMatchObject({ applied: [['1']], deleted: [['2']], filteredOut: [] });
    expect((await target.query(`SELECT id, emb::text FROM ${schema}.docs WHERE id IN (1, 2)`)).rows).toEqual([{ id: '1', emb: '[9,9,9]' }]);
  });

  it('drop removes table and indexes', async () => {
    const c = ctx([{ name: 'second', column: 'emb2', metric: 'ip', method: 'hnsw' }]);
    const { steps } = await dropFlow(c, [], { allowDestructive: true });
    expect(steps.map((s) => s.kind)).toEqual(['drop-index', 'drop-table', 'state']);
    expect((await target.query(`SELECT to_regclass($1) AS r`, [`${schema}.docs`])).rows[0].r).toBeNull();
  });
});
