import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { createPool } from '../../core/connections/pool';
import { testConnection } from '../../core/connections';
import { describeTable } from '../../core/introspect';
import { copyRowsOut, readRowsByKeys, resolveSource, scanKeyFingerprint } from '../../core/source';
import { collect, copyRows } from '../fixtures/source/collect';

// pgvector types against a real PostgreSQL with pgvector (PGlite): recognised as vectors with
// their dimensions, read back exactly, and fingerprinted (vector has no hash function).
describe('pgvector columns in the catalog and the source', () => {
  let pool: pg.Pool;
  const schema = `vec_${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    pool = createPool(inject('vectorUrl'), { max: 1 });
    await pool.query('CREATE EXTENSION IF NOT EXISTS vector');
    await pool.query(`CREATE SCHEMA ${schema}`);
    await pool.query(`CREATE TABLE ${schema}.docs (id int PRIMARY KEY, emb vector(3), half halfvec(4), sparse sparsevec(5), free vector, embs vector(2)[])`);
    await pool.query(`INSERT INTO ${schema}.docs VALUES
      (1, '[1,2.5,-3]', '[0.5,1,1.5,2]', '{1:1.5,5:-2}/5', '[1]', ARRAY['[1,2]'::vector, '[3,4]'::vector]),
      (2, NULL, NULL, NULL, NULL, NULL)`);
  });
  afterAll(async () => {
    await pool?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await pool?.end();
  });

  it('testConnection sees pgvector installed', async () => {
    const r = await testConnection(pool);
    expect(r.pgvector.available).toBe(true);
    expect(r.pgvector.installed).toBe(true);
    expect(r.pgvector.version).toMatch(/^\d+\.\d+/);
  });

  it('describes vector, halfvec and sparsevec with dimensions from the typmod', async () => {
    const d = await describeTable(pool, schema, 'docs');
    const c = Object.fromEntries(d.columns.map((x) => [x.name, x]));
    expect(c.emb).toMatchObject({ type: 'vector(3)', category: 'vector', vector: { kind: 'vector', dimensions: 3 }, extensionType: 'vector' });
    expect(c.emb?.typeName).toMatch(/\.vector$/);
    expect(c.half).toMatchObject({ type: 'halfvec(4)', category: 'vector', vector: { kind: 'halfvec', dimensions: 4 } });
    expect(c.sparse).toMatchObject({ type: 'sparsevec(5)', category: 'vector', vector: { kind: 'sparsevec', dimensions: 5 } });
    expect(c.free).toMatchObject({ type: 'vector', category: 'vector', vector: { kind: 'vector', dimensions: null } });
    expect(c.embs).toMatchObject({ type: 'vector(2)[]', category: 'array', elementType: 'vector(2)', extensionType: 'vector' });
    expect(c.embs?.vector).toBeUndefined();
  });

  it('reads vectors back exactly and fingerprints them', async () => {
    const r = await resolveSource(pool, { schema, table: 'docs' });
    const rows = await copyRows(copyRowsOut(pool, r));
    const one = rows.find((x) => x[0] === '1')!;
    expect(one).toEqual(['1', '[1,2.5,-3]', '[0.5,1,1.5,2]', '{1:1.5,5:-2}/5', '[1]', '{"[1,2]","[3,4]"}']);
    expect(rows.find((x) => x[0] === '2')).toEqual(['2', null, null, null, null, null]);
    expect(await collect(readRowsByKeys(pool, r, [['1']]))).toEqual([one]);
    const before = new Map((await copyRows(scanKeyFingerprint(pool, r))).map((x) => [x[0], x[1]]));
    await pool.query(`UPDATE ${schema}.docs SET emb = '[1,2.5,-3.0001]' WHERE id = 1`);
    const after = new Map((await copyRows(scanKeyFingerprint(pool, r))).map((x) => [x[0], x[1]]));
    expect(after.get('1')).not.toBe(before.get('1'));
    expect(after.get('2')).toBe(before.get('2'));
  });
});
