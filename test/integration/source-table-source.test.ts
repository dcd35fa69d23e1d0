import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { freshDatabase, type TestDatabase } from '../support/db';
import { PgTableSource, countRows, resolveSource } from '../../core/source';
import { TableSyncError } from '../../core/errors';
import { collect } from '../fixtures/source/collect';

describe('PgTableSource', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    await db.sql(`CREATE TABLE products (id bigint PRIMARY KEY, name text NOT NULL, price numeric(12,2), stock int, note text)`);
    await db.sql(`INSERT INTO products SELECT g, 'p' || g, g * 1.5, g % 7, NULL FROM generate_series(1, 20000) g`);
  });
  afterAll(async () => { await db?.drop(); });

  const openBackends = async () => Number((await db.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()`)).rows[0].n);

  it('streams key fields and value fields as text, through the filter', async () => {
    const rows = await collect(new PgTableSource(db.pool, { table: 'products', filter: 'stock = 0' }).fetchRows());
    expect(rows).toHaveLength(2857);
    const r7 = rows.find((r) => r.id === '7');
    expect(r7).toEqual({ id: '7', name: 'p7', price: '10.50', stock: '0', note: null });
  });

  it('rowSchema stands in for row_type: its keys pick the columns, it parses each row', async () => {
    const Product = z.object({ id: z.coerce.bigint(), name: z.string(), price: z.string() });
    const src = new PgTableSource(db.pool, { table: 'products', rowSchema: Product, filter: 'id <= 3' });
    const rows = await collect(src.fetchRows());
    expect(rows.sort((a, b) => Number(a.id - b.id))).toEqual([
      { id: 1n, name: 'p1', price: '1.50' }, { id: 2n, name: 'p2', price: '3.00' }, { id: 3n, name: 'p3', price: '4.50' },
    ]);
    expect((await src.resolve()).valueColumns.map((c) => c.name)).toEqual(['name', 'price']);
  });

  it('a rowSchema that does not fit the data fails loudly', async () => {
    const src = new PgTableSource(db.pool, { table: 'products', rowSchema: z.object({ id: z.string(), note: z.string() }), filter: 'id = 1' });
    await expect(collect(src.fetchRows())).rejects.toThrow(/note/);
  });

  it('a rowSchema or columns naming a missing column says which option named it', async () => {
    const bySchema = new PgTableSource(db.pool, { table: 'products', rowSchema: z.object({ id: z.string(), colour: z.string() }) });
    await expect(bySchema.resolve()).rejects.toThrow('rowSchema: column "colour" does not exist in "public"."products"');
    const byColumns = new PgTableSource(db.pool, { table: 'products', columns: ['id', 'colour'] });
    await expect(collect(byColumns.fetchRows())).rejects.toThrow('columns: column "colour" does not exist in "public"."products"');
  });

  it('a failed resolve is retried, not cached', async () => {
    const src = new PgTableSource(db.pool, { table: 'later' });
    await expect(src.resolve()).rejects.toThrow('table "public"."later" does not exist');
    await db.sql('CREATE TABLE later (id int PRIMARY KEY, v text)');
    await expect(src.resolve()).resolves.toMatchObject({ table: 'later' });
  });

  it('rowFactory transforms each row; columns may name key columns', async () => {
    const src = new PgTableSource(db.pool, { table: 'products', columns: ['id', 'name'], filter: 'id = 5', rowFactory: (r) => `${r.id}:${r.name}` });
    expect(await collect(src.fetchRows())).toEqual(['5:p5']);
  });

  it('refuses rowFactory with rowSchema, and columns with includedColumns', () => {
    expect(() => new PgTableSource(db.pool, { table: 'products', rowSchema: z.object({}), rowFactory: (r) => r })).toThrow(TableSyncError);
    expect(() => new PgTableSource(db.pool, { table: 'products', columns: ['id'], includedColumns: ['name'] })).toThrow(TableSyncError);
  });

  it('an abandoned iteration frees its connection', async () => {
    const src = new PgTableSource(db.pool, { table: 'products' });
    let n = 0;
    for await (const _ of src.fetchRows()) if (++n === 10) break;
    expect(n).toBe(10);
    await expect.poll(openBackends).toBe(0);
    expect(db.pool.totalCount).toBeLessThanOrEqual(4);
    // the pool still works
    expect((await collect(new PgTableSource(db.pool, { table: 'products', filter: 'id = 1' }).fetchRows()))).toHaveLength(1);
  });

  it('an abort signal cancels the stream with CANCELLED', async () => {
    const ac = new AbortController();
    const src = new PgTableSource(db.pool, { table: 'products', signal: ac.signal });
    let n = 0;
    const err = await (async () => {
      for await (const _ of src.fetchRows()) if (++n === 5) ac.abort();
    })().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(TableSyncError);
    expect((err as TableSyncError).code).toBe('CANCELLED');
    await expect.poll(openBackends).toBe(0);
  });

  it('counts rows exactly or by estimate', async () => {
    const r = await resolveSource(db.pool, { table: 'products', filter: 'stock = 0' });
    expect(await countRows(db.pool, r, { exact: true })).toEqual({ count: 2857, exact: true });
    await db.sql('ANALYZE products');
    const est = await countRows(db.pool, r, { exact: false });
    expect(est.exact).toBe(false);
    expect(Number(est.count)).toBeGreaterThan(1000);
    expect(Number(est.count)).toBeLessThan(6000);
  });

  it('a long exact count can be cancelled', async () => {
    const r = await resolveSource(db.pool, { table: 'products', filter: 'pg_sleep(0.01) IS NOT NULL' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    await expect(countRows(db.pool, r, { exact: true, signal: ac.signal })).rejects.toSatisfy((e: unknown) =>
      e instanceof TableSyncError && e.code === 'CANCELLED');
    await expect.poll(openBackends).toBe(0);
  });
});
