import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { listSchemas, listTables } from '../../core/introspect';

describe('catalog: schemas and relations with kind, key and estimate', () => {
  let db: TestDatabase;
  let fdw = true;
  beforeAll(async () => {
    db = await freshDatabase();
    await db.sql(`CREATE SCHEMA "Sales Data"`);
    await db.sql(`CREATE TABLE plain (id int PRIMARY KEY, name text)`);
    await db.sql(`CREATE TABLE composite (a int, "B key" text, v text, PRIMARY KEY ("B key", a))`);
    await db.sql(`CREATE TABLE nokey (x int)`);
    await db.sql(`CREATE TABLE parted (id int, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region)`);
    await db.sql(`CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu')`);
    await db.sql(`CREATE VIEW v AS SELECT * FROM plain`);
    await db.sql(`CREATE MATERIALIZED VIEW mv AS SELECT * FROM plain`);
    await db.sql(`CREATE TABLE "Sales Data"."Orders" (id bigint PRIMARY KEY)`);
    await db.sql(`INSERT INTO plain SELECT g, 'n' || g FROM generate_series(1, 500) g`);
    await db.sql(`ANALYZE plain`);
    try {
      await db.sql(`CREATE EXTENSION postgres_fdw`);
      await db.sql(`CREATE SERVER loop FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'postgres')`);
      await db.sql(`CREATE FOREIGN TABLE ft (id int) SERVER loop`);
    } catch {
      fdw = false; // postgres_fdw is not part of every build
    }
  });
  afterAll(async () => { await db?.drop(); });

  it('lists schemas with owner, user schemas first, system flagged', async () => {
    const schemas = await listSchemas(db.pool);
    const names = schemas.map((s) => s.name);
    expect(names).toContain('public');
    expect(names).toContain('Sales Data');
    expect(schemas.find((s) => s.name === 'pg_catalog')).toMatchObject({ isSystem: true });
    expect(schemas.find((s) => s.name === 'Sales Data')).toMatchObject({ isSystem: false, owner: 'postgres' });
    expect(names.some((n) => n.startsWith('pg_toast') || n.startsWith('pg_temp'))).toBe(false);
    expect(schemas.findIndex((s) => s.isSystem)).toBeGreaterThan(schemas.findIndex((s) => s.name === 'public'));
  });

  it('lists relations of every kind with primary key and usability', async () => {
    const tables = await listTables(db.pool, 'public');
    const by = (n: string) => tables.find((t) => t.name === n);
    expect(by('plain')).toMatchObject({ schema: 'public', kind: 'table', primaryKey: ['id'], estimatedRows: 500 });
    expect(by('plain')?.unusableAsSource).toBeUndefined();
    expect(by('composite')).toMatchObject({ primaryKey: ['B key', 'a'], estimatedRows: null });
    expect(by('nokey')).toMatchObject({ kind: 'table', primaryKey: [], unusableAsSource: 'tables without a primary key are not supported' });
    expect(by('parted')).toMatchObject({ kind: 'partitioned table', primaryKey: ['id', 'region'] });
    expect(by('parted')?.unusableAsSource).toBeUndefined();
    expect(by('parted_eu')).toMatchObject({ kind: 'table', primaryKey: ['id', 'region'] });
    expect(by('v')).toMatchObject({ kind: 'view', primaryKey: [], estimatedRows: null });
    expect(by('v')?.unusableAsSource).toMatch(/^views cannot be sources/);
    expect(by('mv')).toMatchObject({ kind: 'materialized view' });
    expect(by('mv')?.unusableAsSource).toMatch(/^materialized views cannot be sources/);
  });

  it('lists foreign tables as such', async (ctx) => {
    if (!fdw) ctx.skip(); // postgres_fdw missing from this server build
    const ft = (await listTables(db.pool, 'public')).find((t) => t.name === 'ft');
    expect(ft).toMatchObject({ kind: 'foreign table', estimatedRows: null });
    expect(ft?.unusableAsSource).toMatch(/^foreign tables cannot be sources/);
  });

  it('without a schema lists every user schema and no system ones', async () => {
    const tables = await listTables(db.pool);
    expect(tables.find((t) => t.schema === 'Sales Data' && t.name === 'Orders')).toMatchObject({ primaryKey: ['id'] });
    expect(tables.some((t) => t.schema === 'pg_catalog' || t.schema === 'information_schema')).toBe(false);
    expect(await listTables(db.pool, 'no such schema')).toEqual([]);
  });
});
