import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows } from '../../core/browse/count';
import { createPool } from '../../core/connections/pool';
import { freshDatabase, type TestDatabase } from '../support/db';
import type pg from 'pg';

// A table never analyzed has no estimate (reltuples = -1): a small one is counted exactly instead of
// showing the planner's page-based guess ("~460 rows" for 3 rows); once analyzed, the estimate is used.
describe('row count of a never-analyzed table', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await freshDatabase('count_unanalyzed');
    await db.sql(`CREATE TABLE fresh (id int PRIMARY KEY, note text)`);
    await db.sql(`INSERT INTO fresh VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
    pool = createPool(db.url, { max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('is counted exactly while small', async () => {
    expect((await db.sql(`SELECT reltuples::text AS r FROM pg_class WHERE relname = 'fresh'`)).rows[0].r).toBe('-1');
    expect(await countRows(pool, { schema: 'public', table: 'fresh', exact: false })).toEqual({ count: 3, exact: true, source: 'count' });
  });

  it('uses the estimate once analyzed', async () => {
    await db.sql('ANALYZE fresh');
    expect(await countRows(pool, { schema: 'public', table: 'fresh', exact: false })).toEqual({ count: 3, exact: false, source: 'reltuples' });
  });
});
