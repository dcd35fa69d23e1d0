import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { browseRows, type BrowseRowsRequest } from '../../core/browse';
import type { BrowseRowsOutput, SortSpec } from '../../core/api/contract';

// Multi-column sort in the table browser: for 2- and 3-column sorts in mixed directions over
// nullable columns with many ties, walking forward to the end and backward from the last page must
// each visit every row exactly once in the order a plain ORDER BY over the whole table gives, a
// previous page must be exactly the page before, and no statement may use OFFSET.
describe('browse: multi-column sort by keyset', () => {
  let db: TestDatabase;
  const statements: string[] = [];
  const hooks = { onQuery: (sql: string) => { statements.push(sql); } };

  beforeAll(async () => {
    db = await freshDatabase('msort');
    // a: 4 values + NULL every 6th; b: 3 values + NULL every 7th; c, d: NOT NULL with ties.
    await db.sql(`CREATE TABLE ms (id int PRIMARY KEY, a int, b text, c numeric(6,1) NOT NULL, d text NOT NULL)`);
    await db.sql(`INSERT INTO ms SELECT i, CASE WHEN i % 6 = 0 THEN NULL ELSE i % 4 END, CASE WHEN i % 7 = 0 THEN NULL ELSE 'b' || (i % 3) END, (i % 5) / 2.0, 'd' || (i % 2) FROM generate_series(1, 137) i`);
    await db.sql(`CREATE TABLE "Ms Pair" ("k 1" int, k2 text, v int, PRIMARY KEY ("k 1", k2))`);
    await db.sql(`INSERT INTO "Ms Pair" SELECT i / 4, 'x' || (i % 4), CASE WHEN i % 3 = 0 THEN NULL ELSE i % 5 END FROM generate_series(0, 60) i`);
  });
  afterAll(async () => { await db.drop(); });

  const base = (table: string, sort: SortSpec[], extra: Partial<BrowseRowsRequest> = {}): BrowseRowsRequest => ({ schema: 'public', table, direction: 'forward', limit: 9, sort, ...extra });

  async function walkForward(req: BrowseRowsRequest): Promise<BrowseRowsOutput[]> {
    const pages: BrowseRowsOutput[] = [];
    let page = await browseRows(db.pool, req, hooks);
    pages.push(page);
    while (page.nextCursor) {
      page = await browseRows(db.pool, { ...req, after: page.nextCursor }, hooks);
      pages.push(page);
      if (pages.length > 100) throw new Error('runaway paging');
    }
    return pages;
  }

  async function walkBackwardFromLast(req: BrowseRowsRequest): Promise<BrowseRowsOutput[]> {
    const pages: BrowseRowsOutput[] = [];
    let page = await browseRows(db.pool, { ...req, direction: 'last' }, hooks);
    pages.unshift(page);
    while (page.prevCursor) {
      page = await browseRows(db.pool, { ...req, direction: 'backward', before: page.prevCursor }, hooks);
      pages.unshift(page);
      if (pages.length > 100) throw new Error('runaway paging');
    }
    return pages;
  }

  const col = (pages: BrowseRowsOutput[], i = 0) => pages.flatMap((p) => p.rows.map((r) => r[i]));
  /** The plain ORDER BY the grid must match: PostgreSQL's default NULL placement, key in the first sort's direction. */
  const plainOrder = (sort: SortSpec[], keys: string[]) => [
    ...sort.map((s) => `"${s.column}" ${s.dir === 'desc' ? 'DESC' : 'ASC'}`),
    ...keys.map((k) => `${k} ${sort[0]?.dir === 'desc' ? 'DESC' : 'ASC'}`),
  ].join(', ');

  const cases: SortSpec[][] = [
    [{ column: 'a', dir: 'asc' }, { column: 'b', dir: 'desc' }],
    [{ column: 'a', dir: 'desc' }, { column: 'b', dir: 'asc' }],
    [{ column: 'b', dir: 'desc' }, { column: 'a', dir: 'desc' }],
    [{ column: 'a', dir: 'asc' }, { column: 'b', dir: 'desc' }, { column: 'c', dir: 'asc' }],
    [{ column: 'c', dir: 'desc' }, { column: 'a', dir: 'asc' }, { column: 'b', dir: 'desc' }],
    [{ column: 'b', dir: 'asc' }, { column: 'c', dir: 'asc' }, { column: 'a', dir: 'asc' }],
    // every direction the key's way over NOT NULL columns: one row comparison
    [{ column: 'c', dir: 'asc' }, { column: 'd', dir: 'asc' }],
    [{ column: 'd', dir: 'desc' }, { column: 'c', dir: 'desc' }],
  ];

  for (const sort of cases) {
    const label = sort.map((s) => `${s.column} ${s.dir}`).join(', ');
    it(`pages ${label} forward to the end and backward to the start in ORDER BY order`, async () => {
      const expected = (await db.sql(`SELECT id::text AS rid FROM ms ORDER BY ${plainOrder(sort, ['id'])}`)).rows.map((r) => r.rid as string);
      expect(expected).toHaveLength(137);
      const req = base('ms', sort);
      const fwd = await walkForward(req);
      expect(col(fwd)).toEqual(expected);
      expect(fwd).toHaveLength(Math.ceil(137 / 9));
      expect(fwd[0]!.prevCursor).toBeNull();
      const back = await walkBackwardFromLast(req);
      expect(col(back)).toEqual(expected);
      expect(back[back.length - 1]!.rows).toHaveLength(9);
      expect(back[back.length - 1]!.nextCursor).toBeNull();
      // the page before a middle page is exactly the page walked before it
      const prev = await browseRows(db.pool, { ...req, direction: 'backward', before: fwd[5]!.prevCursor! }, hooks);
      expect(prev.rows).toEqual(fwd[4]!.rows);
      // the server-side cell cut (an outer query) keeps the same order
      const cut = await walkForward({ ...req, maxCellChars: 16 });
      expect(col(cut)).toEqual(expected);
    });
  }

  it('sorts a composite, quoted key table and reports the order in words', async () => {
    const sort: SortSpec[] = [{ column: 'v', dir: 'desc' }, { column: 'k2', dir: 'asc' }];
    const expected = (await db.sql(`SELECT "k 1"::text || '/' || k2 AS k FROM "Ms Pair" ORDER BY ${plainOrder(sort, ['"k 1"', 'k2'])}`)).rows.map((r) => r.k as string);
    const req = base('Ms Pair', sort, { limit: 5 });
    const keyOf = (pages: BrowseRowsOutput[]) => pages.flatMap((p) => p.keys.map((k) => k.join('/')));
    expect(keyOf(await walkForward(req))).toEqual(expected);
    expect(keyOf(await walkBackwardFromLast(req))).toEqual(expected);
    const first = await browseRows(db.pool, req);
    expect(first.orderBy).toBe('"v" desc, "k2", "k 1" desc, "k2" desc');
  });

  it('keeps the single-sort form working, and refuses a duplicate column or a cursor of another order', async () => {
    const one = await browseRows(db.pool, { ...base('ms', []), sort: { column: 'a', dir: 'desc' } });
    const list = await browseRows(db.pool, base('ms', [{ column: 'a', dir: 'desc' }]));
    expect(one.rows).toEqual(list.rows);
    await expect(browseRows(db.pool, base('ms', [{ column: 'a', dir: 'asc' }, { column: 'a', dir: 'desc' }]))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(browseRows(db.pool, base('ms', [{ column: 'a', dir: 'asc' }, { column: 'b', dir: 'asc' }], { after: one.nextCursor! }))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(browseRows(db.pool, base('ms', [{ column: 'a', dir: 'asc' }, { column: 'nope', dir: 'asc' }]))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('never uses OFFSET, places NULLs explicitly, unions index-range branches for mixed directions, and uses one row comparison when every direction agrees', () => {
    expect(statements.length).toBeGreaterThan(200);
    for (const s of statements) expect(s).not.toMatch(/\bOFFSET\b/i);
    for (const s of statements) expect(s).toMatch(/ORDER BY t\.\S+ (ASC NULLS LAST|DESC NULLS FIRST)/);
    expect(statements.some((s) => / UNION ALL /.test(s))).toBe(true);
    expect(statements.some((s) => /ROW\(t\."c", t\."d", t\."id"\) > ROW\(\$1, \$2, \$3\)/.test(s))).toBe(true);
  });
});
