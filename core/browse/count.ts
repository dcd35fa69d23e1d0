/**
 * Row counts for the browser and the filter editor: an estimate first (free), the exact count on
 * demand (a full scan: cancellable), and a "matching rows" count bounded by a statement timeout so
 * typing in the filter editor never queues scans behind each other.
 */
import type pg from 'pg';
import type { BrowseCountOutput, FilterValidateOutput } from '../api/contract';
import { pgErrorFields, TableSyncError } from '../errors';
import { describeTable } from '../introspect/describe-table';
import { validateFilter } from '../source/filter';
import { withReadOnly } from '../source/read-only';
import { filterSql } from '../source/source-sql';
import { qualifiedName } from '../sql/ident';
import { gridSearchCondition } from './search';
import type { TableDescription } from '../api/model';
import { ensureFilterValid } from './filter-cache';
import type { QueryHooks } from './rows';

export interface CountRequest {
  schema: string;
  table: string;
  filter?: string;
  /** The grid's quick search (see BrowseRowsRequest): counted like the rows it shows. */
  search?: string;
  searchColumns?: string[];
  exact: boolean;
}

/** ` WHERE …` for the filter and the quick search (as browse.rows applies them), and its parameters. */
function whereSql(rel: TableDescription, req: CountRequest, filter: string | undefined): { sql: string; params: string[] } {
  const conds: string[] = [];
  const params: string[] = [];
  if (filter) conds.push(filterSql(filter));
  const search = gridSearchCondition(rel, req, rel.columns.map((c) => c.name), ALIAS, params);
  if (search) conds.push(search);
  return { sql: conds.length ? ` WHERE ${conds.join(' AND ')}` : '', params };
}

const ALIAS = 't';

/**
 * A never-analyzed table this small (on disk) is counted exactly instead of estimated: the planner's
 * guess from its page count says "~460 rows" for a 3-row table, which no one can read as a count.
 */
export const EXACT_WHEN_UNANALYZED_BYTES = 8 * 1024 * 1024;

export async function countRows(pool: pg.Pool, req: CountRequest, hooks: QueryHooks = {}): Promise<BrowseCountOutput> {
  const filter = req.filter?.trim() ? req.filter : undefined;
  const rel = await describeTable(pool, req.schema, req.table);
  if (filter) await ensureFilterValid(pool, req.schema, req.table, filter);
  const where = whereSql(rel, req, filter);
  const narrowed = where.sql !== '';
  let exact = req.exact;
  if (!exact && !narrowed && rel.estimatedRows === null && rel.kind === 'table') {
    const size = await pool.query<{ bytes: string | null }>(`SELECT pg_relation_size(to_regclass($1))::text AS bytes`, [qualifiedName(req.schema, req.table)]);
    exact = Number(size.rows[0]?.bytes ?? Infinity) <= EXACT_WHEN_UNANALYZED_BYTES;
  }
  if (exact) {
    const n = await withReadOnly(pool, async (client) => {
      hooks.onBackend?.(client);
      const sql = `SELECT count(*) FROM ${qualifiedName(req.schema, req.table)} AS ${ALIAS}${where.sql}`;
      hooks.onQuery?.(sql, where.params);
      const res = await client.query<{ count: string }>(sql, where.params);
      return Number(res.rows[0]?.count ?? 0);
    });
    return { count: n, exact: true, source: 'count' };
  }
  if (!narrowed && rel.estimatedRows !== null && rel.kind !== 'partitioned table') {
    return { count: rel.estimatedRows, exact: false, source: 'reltuples' };
  }
  // Never analyzed, a partitioned parent, a filter or a search: ask the planner.
  const n = await withReadOnly(pool, async (client) => {
    hooks.onBackend?.(client);
    const sql = `EXPLAIN (FORMAT JSON) SELECT 1 FROM ${qualifiedName(req.schema, req.table)} AS ${ALIAS}${where.sql}`;
    hooks.onQuery?.(sql, where.params);
    const res = await client.query<{ 'QUERY PLAN': string }>(sql, where.params);
    const plan = JSON.parse(res.rows[0]?.['QUERY PLAN'] ?? '[]') as { Plan?: { 'Plan Rows'?: number } }[];
    return Math.round(plan[0]?.Plan?.['Plan Rows'] ?? 0);
  });
  return { count: n, exact: false, source: 'explain' };
}

/**
 * Validate a filter and, when valid and asked, count matching rows within `timeoutMs`. A count that
 * runs out of time is reported (count null, countTimedOut), not failed: the filter is still valid.
 */
export async function validateAndCount(
  pool: pg.Pool,
  req: { schema: string; table: string; filter: string; count: boolean; timeoutMs?: number },
  hooks: QueryHooks & { wasCancelled?: () => boolean } = {},
): Promise<FilterValidateOutput> {
  await describeTable(pool, req.schema, req.table);
  const check = await validateFilter(pool, req.schema, req.table, req.filter);
  if (!check.ok) {
    return {
      valid: false,
      message: check.message,
      ...(check.position !== undefined ? { position: check.position } : {}),
      ...(check.sqlstate ? { sqlstate: check.sqlstate } : {}),
    };
  }
  if (!req.count) return { valid: true, count: null, countTimedOut: false };
  const filter = req.filter.trim() ? req.filter : undefined;
  const timeout = Math.max(1, Math.round(req.timeoutMs ?? 3000));
  try {
    const n = await withReadOnly(pool, async (client) => {
      hooks.onBackend?.(client);
      // SET LOCAL takes no parameters; the value is our own integer.
      await client.query(`SET LOCAL statement_timeout = ${timeout}`);
      const sql = `SELECT count(*) FROM ${qualifiedName(req.schema, req.table)}${filter ? ` WHERE ${filterSql(filter)}` : ''}`;
      hooks.onQuery?.(sql, []);
      const res = await client.query<{ count: string }>(sql);
      return Number(res.rows[0]?.count ?? 0);
    });
    return { valid: true, count: n, countTimedOut: false };
  } catch (e) {
    if (pgErrorFields(e)?.code === '57014' && !hooks.wasCancelled?.()) return { valid: true, count: null, countTimedOut: true };
    if (pgErrorFields(e)?.code === '57014') throw new TableSyncError('CANCELLED', 'counting matching rows was cancelled');
    throw e;
  }
}
