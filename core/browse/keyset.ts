/**
 * Keyset paging SQL for the table browser (DESIGN §4): a page is "the next N rows after this row in
 * this order", never OFFSET, so page 10,000 costs what page 1 costs (an index range scan from the
 * cursor) instead of reading and discarding everything before it.
 *
 * The order is the sort column (if any) then a tiebreaker that makes it total: the primary key, or
 * for a table without one the physical row locator (ctid, plus tableoid for a partitioned table),
 * or for a view the whole row as text. NULLs follow PostgreSQL's defaults (last ascending, first
 * descending), which is exactly what reversing the order gives, so "the page before" and "the last
 * page" are the same query with every direction flipped; and an index on the sort column serves
 * both ways.
 *
 * Cursor values are passed as untyped parameters: PostgreSQL infers each one's type from the
 * expression it is compared with, so a cursor of text cells round-trips any column type.
 */
import { quoteIdent } from '../sql/ident';

export type Dir = 'asc' | 'desc';

export interface KeysetOrder {
  /** The sort expression (a quoted column), or undefined for key order only. */
  sort?: string;
  /** Tiebreaker expressions, in order; together unique per row. */
  keys: string[];
  /** Display direction of the whole order. */
  dir: Dir;
}

export function flip(dir: Dir): Dir {
  return dir === 'asc' ? 'desc' : 'asc';
}

/** `ORDER BY s DESC, k1 DESC, k2 DESC` in scan direction `dir` (nulls at PostgreSQL's default place). */
export function orderBySql(order: KeysetOrder, dir: Dir): string {
  const d = dir === 'asc' ? '' : ' DESC';
  return [...(order.sort ? [order.sort] : []), ...order.keys].map((e) => `${e}${d}`).join(', ');
}

/**
 * The condition "strictly after `cursor` when scanning in `dir`", with `$n` placeholders starting at
 * `firstParam`. Returns the SQL and the parameter values (the cursor's non-NULL cells).
 *
 * Ascending, NULLs last: after a non-NULL sort value come larger (value, key) pairs, then every
 * NULL; after a NULL, only NULLs with a larger key. Descending is the mirror image, NULLs first.
 */
export function afterSql(order: KeysetOrder, dir: Dir, cursor: (string | null)[], firstParam: number): { sql: string; params: string[] } {
  const cmp = dir === 'asc' ? '>' : '<';
  const params: string[] = [];
  const p = (v: string) => {
    params.push(v);
    return `$${firstParam + params.length - 1}`;
  };
  const keyVals = order.sort ? cursor.slice(1) : cursor;
  if (keyVals.some((v) => v === null)) throw new Error('cursor key values must not be NULL');
  const keyRow = (vals: (string | null)[]) => `(${vals.map((v) => p(v as string)).join(', ')})`;
  const keyExprs = `(${order.keys.join(', ')})`;

  if (!order.sort) {
    return { sql: `ROW${keyExprs} ${cmp} ROW${keyRow(keyVals)}`, params };
  }
  const s = order.sort;
  const sv = cursor[0] ?? null;
  if (sv !== null) {
    const sp = p(sv);
    const rowCmp = `ROW(${s}, ${order.keys.join(', ')}) ${cmp} ROW(${sp}, ${keyVals.map((v) => p(v as string)).join(', ')})`;
    // Ascending: NULL sort values come after every non-NULL one. Descending: they came before.
    return { sql: dir === 'asc' ? `(${rowCmp} OR ${s} IS NULL)` : `(${rowCmp})`, params };
  }
  const inNulls = `(${s} IS NULL AND ROW${keyExprs} ${cmp} ROW${keyRow(keyVals)})`;
  return { sql: dir === 'asc' ? inNulls : `(${inNulls} OR ${s} IS NOT NULL)`, params };
}

/** The tiebreaker of a relation: its primary key, else its row locator, else the row's text. */
export function tiebreakerFor(kind: string, primaryKey: string[], alias: string): { exprs: string[]; labels: string[] } {
  if (primaryKey.length) return { exprs: primaryKey.map((c) => `${alias}.${quoteIdent(c)}`), labels: primaryKey.map(quoteIdent) };
  if (kind === 'table' || kind === 'materialized view') return { exprs: [`${alias}.ctid`], labels: ['ctid'] };
  // ctid is unique only within one partition.
  if (kind === 'partitioned table') return { exprs: [`${alias}.tableoid`, `${alias}.ctid`], labels: ['tableoid', 'ctid'] };
  // A view (or foreign table) has no row identity: order by the whole row's text. Identical rows
  // tie, so a page boundary between two identical rows shows one of them once.
  return { exprs: [`(${alias}.*)::text COLLATE "C"`], labels: ['row'] };
}
