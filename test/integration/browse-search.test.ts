import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { browseRows, countRows } from '../../core/browse';

// Quick search in the grid: server-side ILIKE over the visible columns' text, wildcards taken
// literally, and keyset paging through the matches unchanged.
describe('browse: quick search', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase('search');
    await db.sql(`CREATE TABLE items (id int PRIMARY KEY, name text, note text, price numeric(8,2))`);
    await db.sql(`INSERT INTO items SELECT g, 'Item ' || g, CASE WHEN g % 100 = 0 THEN '100% cotton_' || g ELSE 'plain' END, g FROM generate_series(1, 5000) g`);
  });
  afterAll(async () => { await db?.drop(); });

  const base = { schema: 'public', table: 'items', direction: 'forward' as const, limit: 20 };

  it('finds rows beyond the loaded pages in any searched column, case-insensitively, and pages through them by keyset', async () => {
    const first = await browseRows(db.pool, { ...base, search: 'COTTON' });
    expect(first.rows.map((r) => r[0])).toEqual(Array.from({ length: 20 }, (_, i) => String((i + 1) * 100)));
    const next = await browseRows(db.pool, { ...base, search: 'COTTON', after: first.nextCursor! });
    expect(next.rows.map((r) => r[0])).toEqual(Array.from({ length: 20 }, (_, i) => String((i + 21) * 100)));
    const last = await browseRows(db.pool, { ...base, search: 'COTTON', after: next.nextCursor! });
    expect(last.rows.map((r) => r[0])).toEqual(Array.from({ length: 10 }, (_, i) => String((i + 41) * 100)));
    expect(last.nextCursor).toBeNull();
    // numbers are searched as their text
    const price = await browseRows(db.pool, { ...base, search: '4999.00' });
    expect(price.rows.map((r) => r[0])).toEqual(['4999']);
  });

  it('takes %, _ and \\ literally and searches only the given columns', async () => {
    // as wildcards, '0%' would match every row with a 0 and '1_0' every 1?0 (Item 100, 110…)
    expect((await browseRows(db.pool, { ...base, limit: 5000, search: '0%' })).rows).toHaveLength(50);
    expect((await browseRows(db.pool, { ...base, search: '1_0', searchColumns: ['name'] })).rows).toEqual([]);
    expect((await browseRows(db.pool, { ...base, search: 'cotton_50', searchColumns: ['note'] })).rows.map((r) => r[0])).toEqual(['500', '5000']);
    expect((await browseRows(db.pool, { ...base, search: 'cotton', searchColumns: ['id', 'name'] })).rows).toEqual([]);
    await expect(browseRows(db.pool, { ...base, search: 'x', searchColumns: ['nope'] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('combines with a filter and a sort', async () => {
    const r = await browseRows(db.pool, { ...base, search: 'cotton', filter: 'id > 4000', sort: { column: 'price', dir: 'desc' } });
    expect(r.rows.map((x) => x[0])).toEqual(['5000', '4900', '4800', '4700', '4600', '4500', '4400', '4300', '4200', '4100']);
  });

  it('goes to a key: the rows from it on, with the way back, in key order only', async () => {
    const r = await browseRows(db.pool, { ...base, atKey: ['2500'] });
    expect(r.rows.map((x) => x[0])).toEqual(Array.from({ length: 20 }, (_, i) => String(2500 + i)));
    expect(r.prevCursor).toEqual(['2500']);
    const before = await browseRows(db.pool, { ...base, direction: 'backward', before: r.prevCursor!, limit: 3 });
    expect(before.rows.map((x) => x[0])).toEqual(['2497', '2498', '2499']);
    // a key that is not there: the next one after it
    expect((await browseRows(db.pool, { ...base, atKey: ['2500'], filter: 'id % 7 = 0', limit: 1 })).rows[0]![0]).toBe('2506');
    await expect(browseRows(db.pool, { ...base, atKey: ['1'], sort: { column: 'price', dir: 'asc' } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(browseRows(db.pool, { ...base, atKey: ['1', '2'] })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/has 1 column \(id\), not 2/) });
  });

  it('goes to a key and says how many rows come before it (filter and search applied), so the grid can number them', async () => {
    expect((await browseRows(db.pool, { ...base, atKey: ['2500'] })).rowsBefore).toBe(2499);
    // id % 7 = 0 below 2500: 7, 14, … 2499 → 357 rows; the first row shown is 2506, number 358
    expect((await browseRows(db.pool, { ...base, atKey: ['2500'], filter: 'id % 7 = 0', limit: 1 })).rowsBefore).toBe(357);
    // cotton rows are every 100th: 100 … 2400 come before 2500
    const searched = await browseRows(db.pool, { ...base, atKey: ['2500'], search: 'cotton' });
    expect(searched.rows[0]![0]).toBe('2500');
    expect(searched.rowsBefore).toBe(24);
    expect((await browseRows(db.pool, { ...base, atKey: ['1'] })).rowsBefore).toBe(0);
    // a count that would take longer than GO_TO_KEY_COUNT_MS is given up (null), the page still comes:
    // pg_sleep makes each of the 2,499 rows before the key cost at least 1 ms, so at least 2.5 s
    const slow = await browseRows(db.pool, { ...base, atKey: ['2500'], filter: 'pg_sleep(0.001) IS NOT NULL', limit: 3 });
    expect(slow.rows.map((x) => x[0])).toEqual(['2500', '2501', '2502']);
    expect(slow.rowsBefore).toBeNull();
    // only a jump to a key counts: other pages say nothing
    expect((await browseRows(db.pool, base)).rowsBefore).toBeUndefined();
  });

  it('counts the rows the search shows, as the toolbar and the Export menu quote them (estimate and exact)', async () => {
    expect(await countRows(db.pool, { schema: 'public', table: 'items', search: 'cotton', exact: true })).toMatchObject({ count: 50, exact: true });
    expect(await countRows(db.pool, { schema: 'public', table: 'items', search: 'cotton', filter: 'id > 4000', exact: true })).toMatchObject({ count: 10 });
    expect(await countRows(db.pool, { schema: 'public', table: 'items', search: 'cotton_50', searchColumns: ['note'], exact: true })).toMatchObject({ count: 2 });
    const estimate = await countRows(db.pool, { schema: 'public', table: 'items', search: 'cotton', exact: false });
    expect(estimate).toMatchObject({ exact: false, source: 'explain' });
    expect(estimate.count).toBeLessThan(5000); // the planner's guess for the search, not the table's rows
    await expect(countRows(db.pool, { schema: 'public', table: 'items', search: 'x', searchColumns: ['nope'], exact: true })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
