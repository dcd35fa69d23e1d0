/**
 * Re-reading rows by key (the live listener's notified keys, the plan's samples): the rows that
 * exist and pass the filter, as text values, keys first. Keys travel as text arrays and are cast
 * to the key columns' own types on the server, so a bigint key past 2^53 is compared exactly.
 */
import type pg from 'pg';
import { RAW_TYPES } from '../connections/pool';
import { toTableSyncError } from '../errors';
import { keyListSql, fromWhereSql, selectListSql } from './source-sql';
import type { ResolvedSource } from './resolve-source';
import { withReadOnly } from './read-only';

export const KEYS_PER_QUERY = 5000;

/** SELECT of the rows whose key is among `$1…$n` (one text[] per key column). */
export function rowsByKeysSql(resolved: ResolvedSource): string {
  const params = resolved.keyColumns.map((_, i) => `$${i + 1}::text[]`).join(', ');
  const aliases = resolved.keyColumns.map((_, i) => `k${i + 1}`);
  const casts = resolved.keyColumns.map((c, i) => `${aliases[i]}::${c.type}`).join(', ');
  const keyTuple = resolved.keyColumns.length === 1 ? keyListSql(resolved) : `(${keyListSql(resolved)})`;
  // The subquery keeps the unnest aliases out of the filter's scope.
  const inKeys = `${keyTuple} IN (SELECT ${casts} FROM unnest(${params}) AS keys(${aliases.join(', ')}))`;
  return `SELECT ${selectListSql(resolved)} ${fromWhereSql(resolved, [inKeys])}`;
}

/**
 * More than KEYS_PER_QUERY keys are read in chunks, all in ONE snapshot (REPEATABLE READ), so the
 * chunks agree: a live batch of whole source transactions is not read half before and half after
 * a later one, and a row asked for under two texts of one key (numeric 1.0 and 1.00: equal, so
 * both find it; text-identity.ts) that two chunks return comes back twice alike, never as two
 * versions (the caller keeps one).
 * @param keys each key = text values of the key columns, in key order
 * @example for await (const row of readRowsByKeys(pool, resolved, [['42']])) row // ['42', 'name', …]
 */
export async function* readRowsByKeys(pool: pg.Pool, resolved: ResolvedSource, keys: (string | null)[][], opts: { signal?: AbortSignal } = {}): AsyncIterable<(string | null)[]> {
  if (keys.length === 0) return;
  const text = rowsByKeysSql(resolved);
  let rows: (string | null)[][];
  try {
    rows = await withReadOnly(pool, async (client) => {
      const out: (string | null)[][] = [];
      for (let start = 0; start < keys.length; start += KEYS_PER_QUERY) {
        const batch = keys.slice(start, start + KEYS_PER_QUERY);
        const values = resolved.keyColumns.map((_, i) => batch.map((k) => k[i] ?? null));
        const res = await client.query<(string | null)[]>({ text, values, rowMode: 'array', types: RAW_TYPES });
        for (const r of res.rows) out.push(r);
      }
      return out;
    // sync work (a catch-up re-reads every changed key here): not under the server's statement timeout
    }, { endInBackground: true, longWork: true, snapshot: keys.length > KEYS_PER_QUERY, ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (e) {
    throw toTableSyncError(e, `reading rows by key from ${resolved.schema}.${resolved.table}`);
  }
  yield* rows;
}
