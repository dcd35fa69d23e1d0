/**
 * "Did anything change?" without moving a single key: both sides fold every (key, ordinal-or-
 * fingerprint) pair into one count and an XOR of per-row hashes. The source does it over its rows
 * (through the filter, read-only), the target over the flow's tracking table, concurrently. When
 * they match, nothing changed since the last sync and nothing is scanned; otherwise the key scan
 * runs as usual. (Per-bucket summaries to scan only part of the keys were measured: grouping a
 * million rows into buckets costs about as much as the key scan itself, so they are not used.)
 *
 * Both sides hash typed values with hash_record_extended (the hash functions hash partitioning
 * relies on, stable across servers and versions): keys of the same types, and the ordinal tracked
 * with the source ordinal's type (or the int8 fingerprint). Anything that hashes differently (an
 * overridden key type, a mark not known) only makes the summaries differ, which costs a scan, never
 * a missed row. A false match needs two different sets with equal count and 64-bit XOR: 2^-64.
 */
import type pg from 'pg';
import { quoteIdent } from '../sql/ident';
import { textIsIdentity } from './text-identity';

export interface Summary {
  count: number;
  xor: string;
}

/** SQL for the summary over `from` (a FROM … WHERE … clause), given typed key and mark expressions. */
export function summarySql(from: string, keys: string[], mark: string): string {
  return `SELECT count(*) AS n, coalesce(bit_xor(hash_record_extended(ROW(${keys.join(', ')}, ${mark}), 1)), 0) AS x ${from}`;
}

/**
 * A key column as the summary hashes it (`alias.` prefix, or none). Typed, except a column whose
 * equal values may print differently (text-identity.ts, decided by the SOURCE column's type on
 * both sides, so both hash alike): by its text, so a key updated to an equal value of another text
 * (numeric 1.0 → 1.00) makes the summaries differ and the scan run, which then sees it.
 */
export function summaryKeySql(name: string, sourceType: string, alias?: string): string {
  const col = `${alias ? `${alias}.` : ''}${quoteIdent(name)}`;
  return textIsIdentity(sourceType) ? col : `${col}::text`;
}

export function toSummary(row: { n: string; x: string }): Summary {
  return { count: Number(row.n), xor: row.x };
}

/**
 * The tracking table's summary, on the target connection, under a savepoint: a key type without a
 * hash function fails here, and the caller then scans instead.
 */
export async function trackingSummary(client: pg.ClientBase, trackingSql: string, keys: { name: string; sourceType: string }[], markColumns: string[]): Promise<Summary | undefined> {
  // markColumns are quoted already (the ordinal, and the fingerprint of rows without one, where the source has nullable ordinals).
  const sql = summarySql(`FROM ${trackingSql} t`, keys.map((k) => summaryKeySql(k.name, k.sourceType, 't')), markColumns.map((m) => `t.${m}`).join(', '));
  await client.query('SAVEPOINT tablesync_summary');
  try {
    const { rows } = await client.query(sql);
    await client.query('RELEASE SAVEPOINT tablesync_summary');
    return toSummary(rows[0] as { n: string; x: string });
  } catch {
    await client.query('ROLLBACK TO SAVEPOINT tablesync_summary');
    await client.query('RELEASE SAVEPOINT tablesync_summary');
    return undefined;
  }
}
