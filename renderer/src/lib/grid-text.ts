/** What the table browser's toolbar and footer say about counts and row numbers (pure, unit-tested). */
import { fmtApprox, fmtCount } from './format';

/**
 * The toolbar's count, saying which count it is: the table's rows or the rows matching the filter,
 * exact or the planner's estimate, and whether live changes arrived since it was counted.
 */
export function countText(b: { exact: number | null; estimate: number | null; filter: string | null; search?: string; countStale: boolean }): string {
  const what = b.filter || b.search?.trim() ? 'matching rows' : 'rows';
  if (b.exact !== null) return `${fmtCount(b.exact)} ${what}${b.countStale ? ' (before live changes)' : ''}`;
  if (b.estimate !== null) return `~${fmtApprox(b.estimate)} ${what} (planner estimate)`;
  return '';
}

export function countTitle(b: { exact: number | null; filter: string | null; search?: string; countStale: boolean }): string {
  const matching = b.filter && b.search?.trim() ? 'the filter and the search' : b.filter ? 'the filter' : b.search?.trim() ? 'the search' : null;
  if (b.exact === null) return matching ? `the planner's estimate of the rows matching ${matching}` : "the planner's estimate of the table's rows";
  return b.countStale ? 'counted before the live changes that arrived since: Recount to refresh' : matching ? `exact count of the rows matching ${matching}` : 'exact count';
}

/** The window's position, as the browse store keeps it. */
export interface WindowPos { firstIndex: number | null; fromEnd: number | null; exact: number | null; countStale?: boolean; rows: { length: number } }

/**
 * The 1-based row number of the window's row i, or null when it is not known. After a jump to the
 * end the rows are numbered only once the exact count is known (and not stale): we show no number
 * rather than a negative one or a guess.
 */
export function rowNumberOf(i: number, w: WindowPos): number | null {
  if (w.firstIndex !== null) return w.firstIndex + i + 1;
  if (w.fromEnd !== null && w.exact !== null && !w.countStale) {
    const n = w.exact - w.fromEnd - (w.rows.length - 1 - i);
    return n >= 1 ? n : null;
  }
  return null;
}

/** The widest row number the window can show (for the row-number column's width). */
export function maxRowNumber(w: WindowPos): number {
  if (w.rows.length === 0) return 0;
  return rowNumberOf(w.rows.length - 1, w) ?? 0;
}

/** Row-number column width in px: room for every digit of the largest number, never under 56. */
export function rowNumberWidth(maxNumber: number): number {
  const digits = String(Math.max(0, Math.floor(maxNumber))).length;
  return Math.max(56, 18 + digits * 8);
}

/** The footer's "rows a–b in view": the rows actually visible (first..last window indexes). */
export function viewRangeText(first: number, last: number, w: WindowPos): string {
  if (w.rows.length === 0 || last < first) return '';
  const n = last - first + 1;
  const a = rowNumberOf(first, w);
  const b = rowNumberOf(last, w);
  // (the total is the toolbar's count, beside it)
  if (a !== null && b !== null) return `rows ${fmtCount(a)}–${fmtCount(b)} in view`;
  if (w.fromEnd !== null) {
    const before = w.fromEnd + (w.rows.length - 1 - last);
    return before === 0 ? `the last ${fmtCount(n)} rows in view` : `${fmtCount(n)} rows in view, ${fmtCount(before)} before the last`;
  }
  return `${fmtCount(n)} rows in view`;
}
