/** Row counts of a source: an estimate first (free), the exact count on demand (a full scan). */
import type pg from 'pg';
import { RAW_TYPES } from '../connections/pool';
import { toTableSyncError } from '../errors';
import type { ResolvedSource } from './resolve-source';
import { fromWhereSql } from './source-sql';
import { withReadOnly } from './read-only';

/** A count as a JS number when it is safe, else its exact text. */
function countValue(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

/**
 * exact: `count(*)` through the filter. Not exact: the planner's estimate for the filtered query
 * (which is pg_class.reltuples scaled by the filter's selectivity). `signal` cancels a long count.
 */
export async function countRows(pool: pg.Pool, resolved: ResolvedSource, opts: { exact: boolean; signal?: AbortSignal }): Promise<{ count: number | string; exact: boolean }> {
  try {
    return await withReadOnly(pool, async (client) => {
      if (opts.exact) {
        const res = await client.query<{ n: string }>({ text: `SELECT count(*) AS n ${fromWhereSql(resolved)}`, types: RAW_TYPES });
        return { count: countValue(res.rows[0]!.n), exact: true };
      }
      const res = await client.query<{ 'QUERY PLAN': string }>({ text: `EXPLAIN (FORMAT JSON) SELECT ${fromWhereSql(resolved)}`, types: RAW_TYPES });
      const plan = JSON.parse(res.rows[0]!['QUERY PLAN']) as { Plan: { 'Plan Rows': number } }[];
      return { count: Math.round(plan[0]?.Plan['Plan Rows'] ?? 0), exact: false };
    }, opts.signal ? { signal: opts.signal } : {});
  } catch (e) {
    throw toTableSyncError(e, `counting rows of ${resolved.schema}.${resolved.table}`);
  }
}
