import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterVerdicts, resolveSource } from '../../core/source';
import { freshDatabase, type TestDatabase } from '../support/db';

// The filter over streamed values (logical-replication capture) numbers the rows beside the table's
// own columns: a table with a column called like that number (`__n`) still gets the right verdicts.
describe('filter verdicts over streamed values', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase('fvals');
    await db.sql(`CREATE TABLE t (id int PRIMARY KEY, "__n" int, price numeric)`);
  });
  afterAll(async () => { await db?.drop(); });

  it('evaluates the filter on each row, even over a column named __n', async () => {
    const resolved = await resolveSource(db.pool, { table: 't', filter: '"__n" > 1 AND t.price > 0' });
    const v = await filterVerdicts(db.pool, resolved, [
      { id: '1', __n: '2', price: '5' },
      { id: '2', __n: '1', price: '5' },
      { id: '3', __n: '3', price: '0' },
      { id: '4', __n: undefined, price: '5' },
    ]);
    expect(v).toEqual([true, false, false, undefined]);
  });
});
