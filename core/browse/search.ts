/**
 * The grid's quick search as browse.rows and browse.count both apply it, so a count says how many
 * rows the grid would show: any of the searched columns, as text, contains the text (ILIKE,
 * core/export/search-sql.ts), the pattern passed as a parameter (keyset paging keeps its plan).
 */
import type { TableDescription } from '../api/model';
import { TableSyncError } from '../errors';
import { qualifiedName, quoteIdent } from '../sql/ident';
import { likePattern, searchCondition } from '../export/search-sql';

export interface GridSearch {
  schema: string;
  table: string;
  /** The search text (nothing to search when empty or blank). */
  search?: string;
  /** Columns to search; default `defaults`. Each must be a column of the table. */
  searchColumns?: string[];
}

/**
 * The condition on `alias`'s columns, its pattern pushed onto `params` as the next parameter; undefined without a search.
 * @example
 * const cond = gridSearchCondition(rel, req, rel.columns.map((c) => c.name), 't', params); // (t."a"::text ILIKE $1 OR …)
 */
export function gridSearchCondition(rel: Pick<TableDescription, 'columns'>, req: GridSearch, defaults: string[], alias: string, params: unknown[]): string | undefined {
  const search = req.search?.trim();
  if (!search) return undefined;
  const names = req.searchColumns ?? defaults;
  for (const n of names) if (!rel.columns.some((c) => c.name === n)) throw new TableSyncError('NOT_FOUND', `cannot search column "${n}": no such column in ${qualifiedName(req.schema, req.table)}`, { column: n });
  params.push(likePattern(search));
  return searchCondition(names.map((n) => `${alias}.${quoteIdent(n)}`), `$${params.length}`);
}
