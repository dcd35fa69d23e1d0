/**
 * Keyset paging SQL for the table browser (DESIGN §4): a page is "the next N rows after this row in
 * this order", never OFFSET, so page 10,000 costs what page 1 costs (an index range scan from the
 * cursor) instead of reading and discarding everything before it.
 *
 * The order is the sort list (zero or more columns, each ascending or descending) then a tiebreaker
 * that makes it total: the primary key, or for a table without one the physical row locator (ctid,
 * plus tableoid for a partitioned table), or for a view the whole row as text. The tiebreaker runs in
 * the first sort column's direction (ascending when unsorted), so a one-column sort is one uniform
 * direction an index serves both ways.
 *
 * NULLs are placed explicitly and tied to the direction: ascending is NULLS LAST, descending NULLS
 * FIRST (PostgreSQL's defaults, so a plain index still serves). Flipping every direction is then the
 * exact reverse order, so "the page before" and "the last page" are the same query with every
 * direction flipped, and the keyset predicate below places NULLs the same way the ORDER BY does.
 *
 * Cursor values are passed as untyped parameters: PostgreSQL infers each one's type from the
 * expression it is compared with, so a cursor of text cells round-trips any column type.
 */
import { quoteIdent } from '../sql/ident';

export type Dir = 'asc' | 'desc';

export interface SortTerm {
  /** The sort expression (a quoted, aliased column). */
  expr: string;
  dir: Dir;
  /** The column is NOT NULL (lets a uniform-direction order use one row comparison). */
  notNull?: boolean;
}

export interface KeysetOrder {
  /** Sort terms, most significant first; empty for key order only. */
  sorts: SortTerm[];
  /** Tiebreaker expressions, in order; together unique per row and never NULL. */
  keys: string[];
  /** Direction of the tiebreaker (the first sort's direction, or ascending). */
  dir: Dir;
}

export function flip(dir: Dir): Dir {
  return dir === 'asc' ? 'desc' : 'asc';
}

/** The same order with every direction reversed (NULLs move with it): the scan order of a backward read. */
export function reversed(order: KeysetOrder): KeysetOrder {
  return { sorts: order.sorts.map((s) => ({ ...s, dir: flip(s.dir) })), keys: order.keys, dir: flip(order.dir) };
}

/** `ORDER BY` list: `s1 ASC NULLS LAST, s2 DESC NULLS FIRST, k1, k2` (keys in `order.dir`). */
export function orderBySql(order: KeysetOrder): string {
  const kd = order.dir === 'asc' ? '' : ' DESC';
  return [
    ...order.sorts.map((s) => `${s.expr}${s.dir === 'asc' ? ' ASC NULLS LAST' : ' DESC NULLS FIRST'}`),
    ...order.keys.map((k) => `${k}${kd}`),
  ].join(', ');
}

/**
 * The condition "strictly after `cursor` in `order`" (pass `reversed(order)` to go backward), with
 * `$n` placeholders starting at `firstParam`. `cursor` is the sort values then the key values.
 * Returns the condition as disjoint branches (their OR is the condition; `sql` is that OR) and the
 * parameter values (the cursor's non-NULL cells, each sent once).
 *
 * For sorts s1..sn the rows after the cursor are: s1 after c1; or s1 = c1 and s2 after c2; …; or all
 * equal and the key after the cursor's key. "After" with NULLs last (ascending) is `s > c`, or `s IS
 * NULL`, nothing after a NULL; with NULLs first (descending) it is `s < c`, and after a NULL every
 * non-NULL. "Equal" to a NULL is `s IS NULL`. The last sort term folds into the key comparison as
 * one row comparison when it runs the key's way, and when every term runs the key's way over NOT
 * NULL columns the whole condition is one row comparison. Each branch is an equality prefix plus one
 * range, so each is an index range scan where an index matches the order, and the page is the
 * first rows of the branches' union (see rows.ts): a deep page costs what the first page costs.
 */
export function afterSql(order: KeysetOrder, cursor: (string | null)[], firstParam: number): { sql: string; branches: string[]; params: string[] } {
  const n = order.sorts.length;
  if (cursor.length !== n + order.keys.length) throw new Error(`cursor has ${cursor.length} values, the order needs ${n + order.keys.length}`);
  const params: string[] = [];
  const ph = cursor.map((v) => {
    if (v === null) return null;
    params.push(v);
    return `$${firstParam + params.length - 1}`;
  });
  const sortPh = ph.slice(0, n);
  const keyPh = ph.slice(n);
  if (keyPh.some((v) => v === null)) throw new Error('cursor key values must not be NULL');
  const cmp = (d: Dir) => (d === 'asc' ? '>' : '<');
  const row = (xs: (string | null)[]) => `ROW(${xs.join(', ')})`;
  const done = (branches: string[]) => ({ sql: branches.length === 1 ? branches[0]! : `(${branches.join(' OR ')})`, branches, params });

  if (order.sorts.every((s, i) => s.dir === order.dir && s.notNull && sortPh[i] !== null)) {
    return done([`${row([...order.sorts.map((s) => s.expr), ...order.keys])} ${cmp(order.dir)} ${row(ph)}`]);
  }
  const branches: string[] = [];
  const eq: string[] = [];
  const and = (xs: string[]) => (xs.length === 1 ? xs[0]! : `(${xs.join(' AND ')})`);
  for (let i = 0; i < n; i++) {
    const s = order.sorts[i]!;
    const c = sortPh[i] ?? null;
    if (i === n - 1 && s.dir === order.dir && c !== null) {
      branches.push(and([...eq, `${row([s.expr, ...order.keys])} ${cmp(s.dir)} ${row([c, ...keyPh])}`]));
      if (s.dir === 'asc' && !s.notNull) branches.push(and([...eq, `${s.expr} IS NULL`]));
      return done(branches);
    }
    if (s.dir === 'asc') {
      if (c !== null) {
        branches.push(and([...eq, `${s.expr} > ${c}`]));
        if (!s.notNull) branches.push(and([...eq, `${s.expr} IS NULL`]));
      }
    } else {
      branches.push(and([...eq, c === null ? `${s.expr} IS NOT NULL` : `${s.expr} < ${c}`]));
    }
    eq.push(c === null ? `${s.expr} IS NULL` : `${s.expr} = ${c}`);
  }
  branches.push(and([...eq, `${row(order.keys)} ${cmp(order.dir)} ${row(keyPh)}`]));
  return done(branches);
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
