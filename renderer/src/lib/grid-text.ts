/** What the table browser's toolbar and footer say about counts and row numbers (pure, unit-tested). */
import { fmtApprox, fmtCount } from './format';

/**
 * The toolbar's count, saying which count it is: the table's rows or the rows matching the filter,
 * exact or the planner's estimate, and whether live changes arrived since it was counted.
 */
export function countText(b: { exact: number | null; estimate: number | null; filter: string | null; countStale: boolean }): string {
  const what = b.filter ? 'matching rows' : 'rows';
  if (b.exact !== null) return `${fmtCount(b.exact)} ${what}${b.countStale ? ' (before live changes)' : ''}`;
  if (b.estimate !== null) return `~${fmtApprox(b.estimate)} ${what} (planner estimate)`;
  return '';
}

export function countTitle(b: { exact: number | null; filter: string | null; countStale: boolean }): string {
  if (b.exact === null) return b.filter ? "the planner's estimate of the rows matching the filter" : "the planner's estimate of the table's rows";
  return b.countStale ? 'counted before the live changes that arrived since: Recount to refresh' : b.filter ? 'exact count of the rows matching the filter' : 'exact count';
}
