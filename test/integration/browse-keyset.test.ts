import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { browseRows, readCell, type BrowseRowsRequest } from '../../core/browse';
import type { BrowseRowsOutput } from '../../core/api/contract';

// Keyset paging of the table browser: walking forward, backward, to the last page, sorted by a
// column with ties and NULLs, must visit every row exactly once in the order ORDER BY gives, and no
// statement may use OFFSET.
describe('browse: keyset paging', () => {
  let db: TestDatabase;
  const statements: string[] = [];
  const hooks = { onQuery: (sql: string) => { statements.push(sql); } };

  beforeAll(async () => {
    db = await freshDatabase('browse');
    await db.sql(`CREATE TABLE items (id int PRIMARY KEY, grp int, name text)`);
    // grp: ties (i % 7) and NULLs (every 5th row)
    await db.sql(`INSERT INTO items SELECT i, CASE WHEN i % 5 = 0 THEN NULL ELSE i % 7 END, 'n' || i FROM generate_series(1, 83) i`);
    await db.sql(`CREATE TABLE "Line Items" ("order" int, "select" text, qty numeric(10,2), PRIMARY KEY ("order", "select"))`);
    await db.sql(`INSERT INTO "Line Items" SELECT i / 3, 'p' || (i % 3), i FROM generate_series(0, 49) i`);
    await db.sql(`CREATE TABLE nokey (v text, at timestamptz)`);
    await db.sql(`INSERT INTO nokey SELECT 'same', '2024-01-01' FROM generate_series(1, 25)`);
    await db.sql(`CREATE VIEW item_view AS SELECT id, grp FROM items`);
    await db.sql(`CREATE TABLE measures (at date NOT NULL, v float8, doc json) PARTITION BY RANGE (at)`);
    await db.sql(`CREATE TABLE measures_a PARTITION OF measures FOR VALUES FROM ('2024-01-01') TO ('2024-07-01')`);
    await db.sql(`CREATE TABLE measures_b PARTITION OF measures FOR VALUES FROM ('2024-07-01') TO ('2025-01-01')`);
    await db.sql(`INSERT INTO measures SELECT date '2024-01-01' + (i % 360), i / 7.0, '{"a": 1}' FROM generate_series(1, 40) i`);
  });
  afterAll(async () => { await db.drop(); });

  const base = (table: string, extra: Partial<BrowseRowsRequest> = {}): BrowseRowsRequest => ({ schema: 'public', table, direction: 'forward', limit: 10, ...extra });

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

  const ids = (pages: BrowseRowsOutput[], col = 0) => pages.flatMap((p) => p.rows.map((r) => r[col]));

  it('walks forward and backward over a sort with ties and NULLs, in ORDER BY order', async () => {
    for (const dir of ['asc', 'desc'] as const) {
      const expected = (await db.sql(`SELECT id FROM items ORDER BY grp ${dir}, id ${dir}`)).rows.map((r) => r.id);
      const req = base('items', { sort: { column: 'grp', dir } });
      const fwd = await walkForward(req);
      expect(ids(fwd)).toEqual(expected);
      expect(fwd.length).toBe(9);
      expect(fwd[0]!.prevCursor).toBeNull();
      const back = await walkBackwardFromLast(req);
      expect(ids(back)).toEqual(expected);
      // the last page holds the last `limit` rows (a full page, not the remainder)
      expect(back[back.length - 1]!.rows.length).toBe(10);
      expect(back[back.length - 1]!.nextCursor).toBeNull();
    }
  });

  it('pages by primary key when unsorted, and a previous page is exactly the page before', async () => {
    const p1 = await browseRows(db.pool, base('items'), hooks);
    const p2 = await browseRows(db.pool, base('items', { after: p1.nextCursor! }), hooks);
    expect(p2.rows.map((r) => r[0])).toEqual(['11', '12', '13', '14', '15', '16', '17', '18', '19', '20']);
    expect(p2.keyColumns).toEqual(['id']);
    expect(p2.keys[0]).toEqual(['11']);
    const back = await browseRows(db.pool, base('items', { direction: 'backward', before: p2.prevCursor! }), hooks);
    expect(back.rows).toEqual(p1.rows);
    expect(back.prevCursor).toBeNull();
  });

  it('handles a composite key with quoted names, and returns only the requested columns', async () => {
    const expected = (await db.sql(`SELECT qty FROM "Line Items" ORDER BY "order", "select"`)).rows.map((r) => r.qty);
    const pages = await walkForward(base('Line Items', { columns: ['qty'], limit: 7 }));
    expect(ids(pages)).toEqual(expected);
    expect(pages[0]!.columns).toEqual([{ name: 'qty', type: 'numeric(10,2)', keyPosition: null }]);
    expect(pages[0]!.keys[0]).toEqual(['0', 'p0']);
  });

  it('pages a table without a primary key (row locator) and a view (row text) without losing rows', async () => {
    const nk = await walkForward(base('nokey', { limit: 4 }));
    expect(ids(nk)).toHaveLength(25);
    expect(nk[0]!.keyColumns).toEqual([]);
    const view = await walkForward(base('item_view', { sort: { column: 'grp', dir: 'asc' }, limit: 9 }));
    expect([...ids(view)].sort()).toEqual((await db.sql('SELECT id::text FROM items ORDER BY id::text')).rows.map((r) => r.id));
  });

  it('pages a partitioned table without a key across its partitions, and refuses to sort by json', async () => {
    const pages = await walkForward(base('measures', { limit: 6, sort: { column: 'at', dir: 'desc' } }));
    expect(ids(pages, 1)).toHaveLength(40);
    expect(new Set(ids(pages, 1)).size).toBe(40);
    const expected = (await db.sql(`SELECT at::text FROM measures ORDER BY at DESC`)).rows.map((r) => r.at);
    expect(ids(pages, 0)).toEqual(expected);
    await expect(browseRows(db.pool, base('measures', { sort: { column: 'doc', dir: 'asc' } }))).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });

  it('applies a filter, read-only, and rejects an invalid one with FILTER_INVALID', async () => {
    const pages = await walkForward(base('items', { filter: 'grp = 3', sort: { column: 'name', dir: 'desc' } }));
    const expected = (await db.sql(`SELECT id FROM items WHERE grp = 3 ORDER BY name DESC, id DESC`)).rows.map((r) => r.id);
    expect(ids(pages)).toEqual(expected);
    await expect(browseRows(db.pool, base('items', { filter: 'nope > 1' }))).rejects.toMatchObject({ code: 'FILTER_INVALID' });
  });

  it('cuts long cells in the server when asked, and reads one whole by key', async () => {
    await db.sql(`CREATE TABLE docs (id int PRIMARY KEY, body text, blob bytea, short text)`);
    await db.sql(`INSERT INTO docs VALUES (1, repeat('abc', 1000), decode(repeat('ff', 100), 'hex'), 'tiny'), (2, NULL, NULL, 'exactly-20-chars-xyz')`);
    const page = await browseRows(db.pool, base('docs', { maxCellChars: 20 }), hooks);
    expect(page.rows[0]).toEqual(['1', 'abcabcabcabcabcabcab', '\\xffffffffffffffffff', 'tiny']);
    expect(page.rows[1]).toEqual(['2', null, null, 'exactly-20-chars-xyz']);
    expect(page.truncated).toEqual([[0, 1], [0, 2]]);
    expect((await browseRows(db.pool, base('docs'))).truncated).toEqual([]);
    expect((await readCell(db.pool, { schema: 'public', table: 'docs', column: 'body', key: ['1'] })).value).toHaveLength(3000);
    await expect(readCell(db.pool, { schema: 'public', table: 'docs', column: 'body', key: ['9'] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(readCell(db.pool, { schema: 'public', table: 'nokey', column: 'v', key: ['x'] })).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    await expect(readCell(db.pool, { schema: 'public', table: 'docs', column: 'body', key: [] })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('refuses a cursor from another order, and unknown columns', async () => {
    const p1 = await browseRows(db.pool, base('items'));
    await expect(browseRows(db.pool, base('items', { sort: { column: 'grp', dir: 'asc' }, after: p1.nextCursor! }))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(browseRows(db.pool, base('items', { columns: ['missing'] }))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(browseRows(db.pool, base('items', { sort: { column: 'missing', dir: 'asc' } }))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(browseRows(db.pool, base('nope'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('never uses OFFSET', () => {
    expect(statements.length).toBeGreaterThan(50);
    for (const s of statements) expect(s).not.toMatch(/\bOFFSET\b/i);
    expect(statements.some((s) => /ROW\(t\."grp", t\."id"\) > ROW\(\$1, \$2\)/.test(s))).toBe(true);
  });
});
