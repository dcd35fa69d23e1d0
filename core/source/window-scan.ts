/**
 * The catch-up's read of an ordinal source (trigger capture, after a reconnect): only the rows
 * whose ordinal is NULL or at least `from` (whatever the filter says of them, with the filter's
 * verdict), and, in the same statement and so the same snapshot, how many rows below `from` pass
 * the filter. The target compares that count with what it tracks below `from`: equal counts mean no
 * row older than the window was deleted or left the filter, so nothing outside the window needs a
 * look; a difference sends the caller to the full key scan.
 *
 * The window rows come back as values (not COPY): there are about as many as rows changed, and a
 * `limit` bounds them (more than that and a full scan is cheaper anyway).
 */
import type pg from 'pg';
import { RAW_TYPES } from '../connections/pool';
import { TableSyncError, toTableSyncError } from '../errors';
import { internalName, qualifiedName, quoteIdent } from '../sql/ident';
import type { ResolvedSource } from './resolve-source';
import { withReadOnly } from './read-only';
import { filterSql } from './source-sql';

export interface WindowRow {
  key: (string | null)[];
  ordinal: string | null;
  /** The row passes the filter (always true without one). */
  passes: boolean;
}

export interface OrdinalWindow {
  rows: WindowRow[];
  /** Rows with an ordinal below `from` that pass the filter. */
  olderCount: number;
  /** More than `limit` rows are in the window: `rows` holds `limit + 1` of them, and is incomplete. */
  truncated: boolean;
  /**
   * The window starts after the source's clock (a timestamptz ordinal): the window's anchor (a
   * tracked ordinal) is a row dated in the future, and changes made since the last sync (ordinals
   * of now) fall below the window, where an UPDATE leaves the counts equal. The caller scans in full.
   */
  ahead: boolean;
}

/**
 * The window's lower bound is after the source's clock: timestamptz only (a timestamp without time
 * zone is compared with no clock: its writers' time zone is unknown; integers have none).
 */
function aheadSql(type: string, from: string): string {
  return /^timestamp with time zone$/i.test(type) ? `${from} > now()` : 'false';
}

/** SQL of the window read: parameters `$1` the window's lower bound (ordinal text), `$2` the row limit. */
export function ordinalWindowSql(resolved: ResolvedSource): string {
  if (!resolved.ordinalColumn) throw new TableSyncError('INVALID_INPUT', `the source ${resolved.schema}.${resolved.table} has no ordinalColumn`);
  const ord = quoteIdent(resolved.ordinalColumn.name);
  const from = `$1::${resolved.ordinalColumn.type}`;
  const rel = qualifiedName(resolved.schema, resolved.table);
  const keys = resolved.keyColumns.map((c) => quoteIdent(c.name));
  // The window's own columns sit beside the key columns in `w`: names no key column has.
  const keyNames = resolved.keyColumns.map((c) => c.name);
  const o = quoteIdent(internalName('__o', keyNames));
  const p = quoteIdent(internalName('__p', [...keyNames, '__o']));
  // The filter's verdict per row: the filter in the same WHERE wrapping validateFilter checked,
  // inside a FROM-less subquery, so its column references resolve to the window's row.
  const passes = resolved.filter ? `EXISTS (SELECT 1 WHERE ${filterSql(resolved.filter)})` : 'true';
  const older = `${ord} < ${from}${resolved.filter ? ` AND ${filterSql(resolved.filter)}` : ''}`;
  return `WITH w AS (
  SELECT ${keys.join(', ')}, ${ord} AS ${o}, ${passes} AS ${p} FROM ${rel} WHERE ${ord} IS NULL OR ${ord} >= ${from} LIMIT $2::int8 + 1)
SELECT 0 AS __part, ${keys.map((k) => `${k}::text`).join(', ')}, ${o}::text, ${p}, NULL::int8 AS __n, NULL::boolean AS __a FROM w
UNION ALL
SELECT 1, ${keys.map(() => 'NULL').join(', ')}, NULL, NULL, (SELECT count(*) FROM ${rel} WHERE ${older}), ${aheadSql(resolved.ordinalColumn.type, from)}`;
}

/** Read the window (see the file comment) in one READ ONLY statement; `signal` cancels it on the server. */
export async function scanOrdinalWindow(pool: pg.Pool, resolved: ResolvedSource, from: string, limit: number, opts: { signal?: AbortSignal } = {}): Promise<OrdinalWindow> {
  const text = ordinalWindowSql(resolved);
  const nk = resolved.keyColumns.length;
  try {
    return await withReadOnly(pool, async (client) => {
      const { rows } = await client.query<(string | null)[]>({ text, values: [from, limit], rowMode: 'array', types: RAW_TYPES });
      const out: WindowRow[] = [];
      let olderCount = 0;
      let ahead = false;
      for (const r of rows) {
        if (r[0] === '1') {
          olderCount = Number(r[nk + 3]);
          ahead = r[nk + 4] === 't';
          continue;
        }
        out.push({ key: r.slice(1, nk + 1), ordinal: r[nk + 1] ?? null, passes: r[nk + 2] === 't' });
      }
      const truncated = out.length > limit;
      return { rows: out, olderCount, truncated, ahead };
    }, { longWork: true, ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (e) {
    throw toTableSyncError(e, `reading the changed rows of ${resolved.schema}.${resolved.table} (catch-up window)`);
  }
}
