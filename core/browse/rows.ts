/**
 * One page of the table browser, by keyset (see keyset.ts): first page, the page after a cursor,
 * the page before one, or the last page. Every read runs through the source's read-only door
 * (withReadOnly) and a filter only after validateFilter accepted it, so browsing can never write.
 */
import type pg from 'pg';
import { GO_TO_KEY_COUNT_MS, MAX_SORT_COLUMNS, sortList, type BrowseCursor, type BrowseRowsOutput, type SortSpec } from '../api/contract';
import type { Cell, TableDescription } from '../api/model';
import { TableSyncError } from '../errors';
import { describeTable } from '../introspect/describe-table';
import { withReadOnly } from '../source/read-only';
import { filterSql } from '../source/source-sql';
import { qualifiedName, quoteIdent } from '../sql/ident';
import { afterSql, orderBySql, reversed, tiebreakerFor, type KeysetOrder, type SortTerm } from './keyset';
import { ensureFilterValid } from './filter-cache';
import { gridSearchCondition } from './search';

export interface BrowseRowsRequest {
  schema: string;
  table: string;
  columns?: string[];
  /** The sort list, most significant first (a single spec is a list of one). */
  sort?: SortSpec | SortSpec[];
  filter?: string;
  direction: 'forward' | 'backward' | 'last';
  after?: BrowseCursor;
  before?: BrowseCursor;
  limit: number;
  /** Cut longer cells to this many characters (see `truncated` in the answer). */
  maxCellChars?: number;
  /** Quick search text (ILIKE over `searchColumns`' text, default the returned columns). */
  search?: string;
  searchColumns?: string[];
  /** Rows from this primary-key value on (key order only). */
  atKey?: string[];
}

export interface QueryHooks {
  /** Every statement the browser sends with its parameters (tests pin "never OFFSET" with it). */
  onQuery?: (sql: string, params: unknown[]) => void;
  /** The backend pid serving this request, so a cancel can reach it. */
  onBackend?: (client: pg.ClientBase) => unknown;
}

const ALIAS = 't';

/**
 * @example
 * const first = await browseRows(pool, { schema: 'public', table: 'orders', direction: 'forward', limit: 100 });
 * const second = await browseRows(pool, { ...same, after: first.nextCursor! });
 */
export async function browseRows(pool: pg.Pool, req: BrowseRowsRequest, hooks: QueryHooks = {}): Promise<BrowseRowsOutput> {
  const rel = await describeTable(pool, req.schema, req.table);
  const filter = req.filter?.trim() ? req.filter : undefined;
  if (filter) await ensureFilterValid(pool, req.schema, req.table, filter);

  const byName = new Map(rel.columns.map((c) => [c.name, c]));
  const columns = (req.columns ?? rel.columns.map((c) => c.name)).map((n) => {
    const c = byName.get(n);
    if (!c) throw new TableSyncError('NOT_FOUND', `column "${n}" does not exist in ${qualifiedName(req.schema, req.table)}`, { column: n });
    return c;
  });
  const sorts = sortList(req.sort);
  if (sorts.length > MAX_SORT_COLUMNS) throw new TableSyncError('INVALID_INPUT', `browse: sort by at most ${MAX_SORT_COLUMNS} columns, not ${sorts.length}`);
  const terms: SortTerm[] = [];
  for (const sc of sorts) {
    const c = byName.get(sc.column);
    if (!c) throw new TableSyncError('NOT_FOUND', `cannot sort by "${sc.column}": no such column in ${qualifiedName(req.schema, req.table)}`, { column: sc.column });
    if (sorts.filter((o) => o.column === sc.column).length > 1) throw new TableSyncError('INVALID_INPUT', `browse: "${sc.column}" appears twice in the sort`, { column: sc.column });
    terms.push({ expr: `${ALIAS}.${quoteIdent(sc.column)}`, dir: sc.dir ?? 'asc', notNull: !c.nullable });
  }
  const tie = tiebreakerFor(rel.kind, rel.primaryKey, ALIAS);
  const order: KeysetOrder = { sorts: terms, keys: tie.exprs, dir: terms[0]?.dir ?? 'asc' };
  const nSort = terms.length;
  const cursorWidth = nSort + tie.exprs.length;

  const { direction } = req;
  const cursor = direction === 'forward' ? req.after : direction === 'backward' ? req.before : undefined;
  if (direction === 'backward' && !cursor) throw new TableSyncError('INVALID_INPUT', 'browse: direction "backward" needs a `before` cursor');
  if (cursor && cursor.length !== cursorWidth) {
    throw new TableSyncError('INVALID_INPUT', `browse: the cursor has ${cursor.length} values but this order needs ${cursorWidth} (did the sort change? start from the first page)`);
  }
  if (cursor && cursor.slice(nSort).some((v) => v === null)) {
    throw new TableSyncError('INVALID_INPUT', 'browse: cursor key values must not be null');
  }

  // Scanning backward (previous page, last page) is the same query in the flipped order.
  const scan = direction === 'forward' ? order : reversed(order);
  const conds: string[] = [];
  const params: string[] = [];
  if (filter) conds.push(filterSql(filter));
  // The rows after the cursor, as disjoint branches (one for a uniform order, see keyset.ts).
  let branches: (string | null)[] = [null];
  if (cursor) {
    const a = afterSql(scan, cursor, 1);
    branches = a.branches;
    params.push(...a.params);
  }
  let atKeyCond = -1;
  let beforeKey = '';
  if (req.atKey) {
    if (!rel.primaryKey.length) throw new TableSyncError('UNSUPPORTED', `${qualifiedName(req.schema, req.table)} has no primary key to go to`);
    if (nSort || cursor || direction !== 'forward') throw new TableSyncError('INVALID_INPUT', 'go to a key works in key order, from the start: clear the sort first');
    if (req.atKey.length !== rel.primaryKey.length) {
      throw new TableSyncError('INVALID_INPUT', `the key of ${qualifiedName(req.schema, req.table)} has ${rel.primaryKey.length} column${rel.primaryKey.length > 1 ? 's' : ''} (${rel.primaryKey.join(', ')}), not ${req.atKey.length}`);
    }
    const ph = req.atKey.map((v) => {
      params.push(v);
      return `$${params.length}`;
    });
    conds.push(`ROW(${tie.exprs.join(', ')}) >= ROW(${ph.join(', ')})`);
    atKeyCond = conds.length - 1;
    beforeKey = `ROW(${tie.exprs.join(', ')}) < ROW(${ph.join(', ')})`;
  }
  const search = gridSearchCondition(rel, req, columns.map((c) => c.name), ALIAS, params);
  if (search) conds.push(search);
  // Cut in the server, so a page of 20 kB vectors or megabyte documents does not travel whole:
  // one character more than the limit tells a cut cell from one that fits exactly. The cut runs in
  // an outer query over the LIMITed page: in the same SELECT, PostgreSQL would compute it for every
  // row the sort reads (seconds on a million rows sorted by an unindexed column).
  const cut = req.maxCellChars;
  const relSql = `${qualifiedName(req.schema, req.table)} AS ${ALIAS}`;
  const whereOf = (branch: string | null) => {
    const all = [...conds, ...(branch ? [branch] : [])];
    return all.length ? ` WHERE ${all.join(' AND ')}` : '';
  };
  const orderExprs = [...terms.map((t) => t.expr), ...tie.exprs];
  const limit = req.limit + 1;
  const aliasedOrder = (alias: string): string => orderBySql({
    sorts: scan.sorts.map((t, i) => ({ ...t, expr: `${alias}.o${i}` })),
    keys: tie.exprs.map((_, i) => `${alias}.o${i + nSort}`),
    dir: scan.dir,
  });
  let sql: string;
  if (!cut && branches.length === 1) {
    const selectList = [...columns.map((c) => `${ALIAS}.${quoteIdent(c.name)}`), ...orderExprs].join(', ');
    sql = `SELECT ${selectList} FROM ${relSql}${whereOf(branches[0]!)} ORDER BY ${orderBySql(scan)} LIMIT ${limit}`;
  } else {
    const inner = [...columns.map((c, i) => `${ALIAS}.${quoteIdent(c.name)} AS c${i}`), ...orderExprs.map((e, i) => `${e} AS o${i}`)].join(', ');
    const branchSql = (b: string | null) => `SELECT ${inner} FROM ${relSql}${whereOf(b)} ORDER BY ${orderBySql(scan)} LIMIT ${limit}`;
    // Mixed directions: each branch is its own index range scan of at most one page, and the page
    // is the first rows of their union, so a deep page reads no more than the first one.
    const pageSql = branches.length === 1
      ? branchSql(branches[0]!)
      : `SELECT * FROM (${branches.map((b) => `(${branchSql(b)})`).join(' UNION ALL ')}) AS u ORDER BY ${aliasedOrder('u')} LIMIT ${limit}`;
    const outer = [...columns.map((_, i) => (cut ? `left(p.c${i}::text, ${cut + 1})` : `p.c${i}`)), ...orderExprs.map((_, i) => `p.o${i}`)].join(', ');
    sql = `SELECT ${outer} FROM (${pageSql}) AS p ORDER BY ${aliasedOrder('p')}`;
  }

  /**
   * After a jump to a key: how many rows (through the filter and the search) come before it, so the
   * grid can number the rows. Counted in the page's own snapshot over the key index, so it costs
   * the key's depth; bounded by GO_TO_KEY_COUNT_MS (null past it: the grid says the position was
   * not counted). Last in the transaction, inside a savepoint, so a timeout costs nothing else.
   */
  const countBefore = async (client: pg.PoolClient): Promise<number | null> => {
    const where = [...conds.filter((_, i) => i !== atKeyCond), beforeKey].join(' AND ');
    const countSql = `SELECT count(*) AS n FROM ${relSql} WHERE ${where}`;
    hooks.onQuery?.(countSql, params);
    await client.query(`SAVEPOINT tablesync_position; SET LOCAL statement_timeout = ${GO_TO_KEY_COUNT_MS}`);
    try {
      const r = await client.query<{ n: string }>(countSql, params);
      return Number(r.rows[0]!.n);
    } catch (e) {
      if ((e as { code?: string }).code !== '57014') throw e;
      await client.query('ROLLBACK TO SAVEPOINT tablesync_position');
      return null;
    }
  };
  const { rows: raw, rowsBefore } = await withReadOnly(pool, async (client) => {
    hooks.onBackend?.(client);
    hooks.onQuery?.(sql, params);
    const res = await client.query({ text: sql, values: params, rowMode: 'array' });
    return { rows: res.rows as Cell[][], rowsBefore: req.atKey ? await countBefore(client) : undefined };
  }).catch((e: unknown) => {
    if ((e as { code?: string }).code === '42883' && nSort) {
      const names = sorts.map((o) => `"${o.column}"`).join(', ');
      throw new TableSyncError('UNSUPPORTED', `cannot sort by ${names}: ${nSort > 1 ? 'a' : 'its'} type has no ordering`, { column: sorts[0]!.column });
    }
    throw e;
  });

  const more = raw.length > req.limit;
  const page = more ? raw.slice(0, req.limit) : raw;
  if (direction !== 'forward') page.reverse();

  const n = columns.length;
  const cursorOf = (row: Cell[]): BrowseCursor => row.slice(n, n + cursorWidth);
  const first = page[0];
  const last = page[page.length - 1];
  let nextCursor: BrowseCursor | null = null;
  let prevCursor: BrowseCursor | null = null;
  if (first && last) {
    if (direction === 'forward') {
      nextCursor = more ? cursorOf(last) : null;
      // After a jump to a key there may be rows before it: offer the way back.
      prevCursor = cursor || req.atKey ? cursorOf(first) : null;
    } else if (direction === 'backward') {
      prevCursor = more ? cursorOf(first) : null;
      nextCursor = cursorOf(last);
    } else {
      prevCursor = more ? cursorOf(first) : null;
    }
  }
  const truncated: [number, number][] = [];
  const rows = page.map((r, ri) => r.slice(0, n).map((v, ci) => {
    if (cut && v !== null && v.length > cut) {
      truncated.push([ri, ci]);
      return v.slice(0, cut);
    }
    return v;
  }));
  return {
    columns: columns.map((c) => ({ name: c.name, type: c.type, keyPosition: c.keyPosition })),
    rows,
    truncated,
    keyColumns: rel.primaryKey,
    keys: rel.primaryKey.length ? page.map((r) => keyCells(r, rel, n, nSort)) : page.map(() => []),
    nextCursor,
    prevCursor,
    ...(rowsBefore !== undefined ? { rowsBefore } : {}),
    orderBy: [...sorts.map((o) => `${quoteIdent(o.column)}${o.dir === 'desc' ? ' desc' : ''}`), ...tie.labels.map((l) => `${l}${order.dir === 'desc' ? ' desc' : ''}`)].join(', '),
  };
}

/** The primary-key cells of a row: they sit after the displayed columns and the sort values. */
function keyCells(row: Cell[], rel: TableDescription, n: number, nSort: number): Cell[] {
  const start = n + nSort;
  return rel.primaryKey.map((_, i) => row[start + i] ?? null);
}
