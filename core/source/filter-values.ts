/**
 * The filter, evaluated over values that did not come from the table: the rows a logical-replication
 * stream carries. The source server evaluates it (its functions, types, collations and settings
 * are the ones the filter was written for) over the streamed values cast to the table's column
 * types, in a subquery named like the table, so `price > 0` and `products.price > 0` both work;
 * the table itself is not read (a filter with a subquery reads what that subquery reads). It runs
 * like every filter: validated by resolveSource, one statement through the extended protocol,
 * inside a READ ONLY transaction (withReadOnly).
 *
 * A value the stream does not carry (an unchanged TOASTed column, a generated column) makes that
 * row's verdict unknown (`undefined`): the caller re-reads it by key.
 */
import type pg from 'pg';
import { RAW_TYPES } from '../connections/pool';
import { toTableSyncError } from '../errors';
import { internalName, quoteIdent } from '../sql/ident';
import type { ResolvedSource } from './resolve-source';
import { withReadOnly } from './read-only';
import { filterSql } from './source-sql';

export type StreamedRow = Record<string, string | null | undefined>;

/** The SQL: `$1` row numbers, then one text[] per table column (description order). */
export function filterValuesSql(resolved: ResolvedSource): string {
  const cols = resolved.description.columns;
  const casts = cols.map((c, i) => `x.c${i}::${c.type} AS ${quoteIdent(c.name)}`).join(', ');
  const params = cols.map((_, i) => `$${i + 2}::text[]`).join(', ');
  const aliases = cols.map((_, i) => `c${i}`).join(', ');
  // The row number sits beside the table's columns in the subquery: a name none of them has.
  const n = quoteIdent(internalName('__n', cols.map((c) => c.name)));
  return `SELECT ${n} FROM (SELECT x.${n}, ${casts} FROM unnest($1::int8[], ${params}) AS x(${n}, ${aliases})) AS ${quoteIdent(resolved.table)} WHERE ${filterSql(resolved.filter ?? 'true')}`;
}

/** Whether each row passes the filter (true for all without one); undefined where a needed value is missing. */
export async function filterVerdicts(pool: pg.Pool, resolved: ResolvedSource, rows: StreamedRow[]): Promise<(boolean | undefined)[]> {
  if (!resolved.filter) return rows.map(() => true);
  const cols = resolved.description.columns;
  const known = rows.map((r) => cols.every((c) => r[c.name] !== undefined));
  const idx = rows.map((_, i) => i).filter((i) => known[i]);
  const out: (boolean | undefined)[] = rows.map((_, i) => (known[i] ? false : undefined));
  if (idx.length === 0) return out;
  const values = [idx.map(String), ...cols.map((c) => idx.map((i) => rows[i]![c.name] ?? null))];
  try {
    await withReadOnly(pool, async (client) => {
      const { rows: passed } = await client.query<string[]>({ text: filterValuesSql(resolved), values, rowMode: 'array', types: RAW_TYPES });
      for (const [n] of passed) out[Number(n)] = true;
    }, { longWork: true }); // sync work: a batch of up to 5,000 rows through the filter
  } catch (e) {
    throw toTableSyncError(e, `evaluating the filter of ${resolved.schema}.${resolved.table} over replicated rows`);
  }
  return out;
}
