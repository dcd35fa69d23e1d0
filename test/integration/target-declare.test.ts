import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createPool } from '../../core/connections/pool';
import { TableSchema, mountTableTarget, declareTableTarget } from '../../core/target/declare';
import { freshDatabase, type TestDatabase } from '../support/db';
import type pg from 'pg';

// The programmatic API (declare_table_target / mount_table_target): rows declared in a run are
// upserted, rows declared before but not now are deleted, rows nobody declared are left alone;
// unchanged rows are not rewritten; attachments and a zod-derived schema work like a flow's.
describe('rows declared from code', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const Product = z.object({ category: z.string(), name: z.string(), price: z.number(), stock: z.number().int(), tags: z.array(z.string()), at: z.date().nullable() });
  const schema = TableSchema.fromZod(Product, ['category', 'name'], { columnOverrides: { price: 'numeric(10,2)' } });
  beforeAll(async () => {
    db = await freshDatabase('decl');
    pool = createPool(db.url, { max: 1 });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });
  const rows = async () => (await db.sql(`SELECT category, name, price::text, stock::text, tags::text, at::text, xmin::text AS x FROM products ORDER BY 1, 2`)).rows;

  it('converges run after run', async () => {
    const run1 = await mountTableTarget({ pool }, 'products', schema);
    run1.declareRow({ category: 'a', name: 'one', price: 1.5, stock: 3, tags: ['x'], at: new Date('2024-01-01T00:00:00Z') });
    run1.declareRow({ category: 'a', name: 'two', price: 2, stock: 2 ** 53 + 1, tags: [], at: null });
    run1.declareRow({ category: 'b', name: 'three', price: 3, stock: 0, tags: ['y', 'z'], at: null });
    run1.declareSqlCommandAttachment({ name: 'by_price', setupSql: 'CREATE INDEX products_price ON products (price)', teardownSql: 'DROP INDEX IF EXISTS products_price' });
    const plan = await run1.plan();
    expect(plan.columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['category', 'text', false], ['name', 'text', false], ['price', 'numeric(10,2)', false], ['stock', 'bigint', false], ['tags', 'jsonb', false], ['at', 'timestamp with time zone', true],
    ]);
    expect((await run1.apply()).rows.insert).toBe(3);
    const r1 = await rows();
    expect(r1.map(({ x: _x, ...r }) => r)).toEqual([
      { category: 'a', name: 'one', price: '1.50', stock: '3', tags: '["x"]', at: '2024-01-01 00:00:00+00' },
      { category: 'a', name: 'two', price: '2.00', stock: '9007199254740992', tags: '[]', at: null },
      { category: 'b', name: 'three', price: '3.00', stock: '0', tags: '["y", "z"]', at: null },
    ]);
    await db.sql(`INSERT INTO products VALUES ('z', 'foreign', 9, 9, '[]', NULL)`);

    const run2 = declareTableTarget({ pool }, 'products', schema);
    run2.declareRow({ category: 'a', name: 'one', price: 1.5, stock: 3, tags: ['x'], at: new Date('2024-01-01T00:00:00Z') });
    run2.declareRow({ category: 'b', name: 'three', price: 4, stock: 0, tags: ['y', 'z'], at: null });
    run2.declareRow({ category: 'c', name: 'four', price: 4, stock: 4, tags: [], at: null });
    run2.declareSqlCommandAttachment({ name: 'by_price', setupSql: 'CREATE INDEX products_price ON products (price)', teardownSql: 'DROP INDEX IF EXISTS products_price' });
    const p2 = await run2.plan();
    expect(p2.rows).toMatchObject({ insert: 1, update: 1, delete: 1, unchanged: 1, foreign: 1 });
    expect(p2.steps).toEqual([]);
    const res = await run2.apply();
    expect(res.rows).toMatchObject({ insert: 1, update: 1, delete: 1 });
    const r2 = await rows();
    expect(r2.map((r) => `${r.category}/${r.name}/${r.price}`)).toEqual(['a/one/1.50', 'b/three/4.00', 'c/four/4.00', 'z/foreign/9.00']);
    // The unchanged row was not rewritten: same xmin as after run 1.
    expect(r2[0]!.x).toBe(r1[0]!.x);
    expect((await db.sql(`SELECT count(*) AS n FROM pg_indexes WHERE indexname = 'products_price'`)).rows[0].n).toBe('1');
  });

  it('refuses a row without its key', async () => {
    const t = declareTableTarget({ pool }, 'products', schema);
    expect(() => t.declareRow({ category: 'a' })).toThrow(/primary key column "name"/);
  });
});
