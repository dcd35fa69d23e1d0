/**
 * The source's bulk reads, all COPY text (`\N` for NULL, tab-separated) so bulk data never turns
 * into JS values: every row, key+ordinal, and key+fingerprint. Columns always come keys first, in
 * primary-key order.
 */
import type pg from 'pg';
import { TableSyncError } from '../errors';
import { quoteIdent } from '../sql/ident';
import type { ResolvedSource } from './resolve-source';
import { copyOut } from './read-only';
import { fingerprintSql, fromWhereSql, keyListSql, selectRowsSql } from './source-sql';

/**
 * Every row that passes the filter: key columns then value columns, COPY text chunks.
 * `resolved` must come from resolveSource, which validated the filter (COPY itself is simple protocol).
 * @example for await (const line of copyLines(copyRowsOut(pool, resolved))) decodeCopyRow(line)
 */
export function copyRowsOut(pool: pg.Pool, resolved: ResolvedSource, opts: { signal?: AbortSignal } = {}): AsyncIterable<Buffer> {
  return copyOut(pool, selectRowsSql(resolved), { ...opts, context: `reading ${rel(resolved)}` });
}

/**
 * Key columns, then the ordinal column as text: what the reconciler compares per key. With
 * `nullFingerprint` a third column follows: the row's fingerprint where the ordinal is NULL (NULL
 * elsewhere), so rows without an ordinal are compared by content (see ordinalMarkSql).
 */
export function scanKeyOrdinal(pool: pg.Pool, resolved: ResolvedSource, opts: { signal?: AbortSignal; nullFingerprint?: boolean } = {}): AsyncIterable<Buffer> {
  if (!resolved.ordinalColumn) throw new TableSyncError('INVALID_INPUT', `scanKeyOrdinal: the source ${rel(resolved)} has no ordinalColumn`);
  const { nullFingerprint, ...rest } = opts;
  return copyOut(pool, `SELECT ${keyListSql(resolved)}, ${ordinalMarkSql(resolved, nullFingerprint === true).join(', ')} ${fromWhereSql(resolved)}`, { ...rest, context: `scanning ${rel(resolved)}` });
}

/**
 * The per-row marks of an ordinal scan: the ordinal, and with `nullFingerprint` the fingerprint of
 * the rows whose ordinal is NULL. NULL = NULL would otherwise count as unchanged and such a row
 * would never be synced again; the CASE computes the hash only for those rows.
 */
export function ordinalMarkSql(resolved: ResolvedSource, nullFingerprint: boolean): string[] {
  const ord = quoteIdent(resolved.ordinalColumn!.name);
  return nullFingerprint ? [ord, `CASE WHEN ${ord} IS NULL THEN ${fingerprintSql(resolved.valueColumns)} END`] : [ord];
}

/** Key columns, then an int8 fingerprint of the value columns computed by the server. */
export function scanKeyFingerprint(pool: pg.Pool, resolved: ResolvedSource, opts: { signal?: AbortSignal } = {}): AsyncIterable<Buffer> {
  return copyOut(pool, `SELECT ${keyListSql(resolved)}, ${fingerprintSql(resolved.valueColumns)} ${fromWhereSql(resolved)}`, { ...opts, context: `scanning ${rel(resolved)}` });
}

function rel(r: ResolvedSource): string {
  return `${quoteIdent(r.schema)}.${quoteIdent(r.table)}`;
}
