/**
 * Quick search (the grid's search box): a row matches when any of the given columns, as text,
 * contains the text, case-insensitively (ILIKE with `%`, `_` and `\` escaped). The same condition
 * serves the browser (as a parameter, so keyset paging stays as it is) and an export (as a
 * literal, since COPY takes no parameters).
 */
import { quoteLiteral } from '../sql/ident';

/** `%text%` with LIKE's wildcards escaped (default escape character: backslash). */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** `(a::text ILIKE p OR b::text ILIKE p)`; `pattern` is SQL: a literal or a `$n` placeholder. */
export function searchCondition(exprs: string[], pattern: string): string {
  if (exprs.length === 0) return 'false';
  return `(${exprs.map((e) => `${e}::text ILIKE ${pattern}`).join(' OR ')})`;
}

export function searchSql(exprs: string[], text: string): string {
  return searchCondition(exprs, quoteLiteral(likePattern(text)));
}
