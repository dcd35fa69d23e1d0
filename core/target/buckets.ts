/**
 * Finding what changed without moving every key: both sides fold their (key, ordinal-or-fingerprint)
 * pairs into 65,536 buckets by a hash of the key, with a count and an XOR of per-row hashes. The
 * source does it over its rows (through the filter, read-only), the target over the flow's tracking
 * table, concurrently. Only buckets whose summaries differ are scanned key by key, so a re-sync
 * where nothing changed moves 65,536 small rows instead of a million keys.
 *
 * Both sides hash typed values with hash_record_extended (the hash functions hash partitioning
 * relies on, stable across servers and versions): keys of the same types, and the ordinal tracked
 * with the source ordinal's type (or the int8 fingerprint). Anything that hashes differently (an
 * overridden key type, a mark not known) only makes buckets differ, which costs a scan, never a
 * missed row.
 */
import type pg from 'pg';
import { quoteIdent } from '../sql/ident';

export const BUCKET_MASK = 65535;
/** Above this share of differing buckets the bucketed scan saves nothing: scan everything. */
export const BUCKET_SCAN_SHARE = 0.5;

export interface BucketSummary {
  count: number;
  xor: string;
}

/** SQL for the bucket of a row and its hash, given key and mark expressions (typed). */
export function bucketExprs(keys: string[], mark: string): { bucket: string; rowHash: string } {
  return {
    bucket: `(hash_record_extended(ROW(${keys.join(', ')}), 0) & ${BUCKET_MASK})`,
    rowHash: `hash_record_extended(ROW(${keys.join(', ')}, ${mark}), 1)`,
  };
}

/**
 * Per-bucket summaries, or (grouped = false) one summary of everything: an aggregate without
 * 65,536 groups costs a fraction, and a re-sync where nothing changed needs nothing more.
 */
export function summarySql(from: string, keys: string[], mark: string, grouped = true): string {
  const e = bucketExprs(keys, mark);
  return grouped
    ? `SELECT ${e.bucket} AS b, count(*) AS n, bit_xor(${e.rowHash}) AS x ${from} GROUP BY 1`
    : `SELECT 'all' AS b, count(*) AS n, coalesce(bit_xor(${e.rowHash}), 0) AS x ${from}`;
}

export function toSummaryMap(rows: { b: string; n: string; x: string }[]): Map<string, BucketSummary> {
  return new Map(rows.map((r) => [r.b, { count: Number(r.n), xor: r.x }]));
}

/** Buckets whose summaries differ (present on either side). */
export function differingBuckets(source: Map<string, BucketSummary>, target: Map<string, BucketSummary>): string[] {
  const out: string[] = [];
  for (const [b, s] of source) {
    const t = target.get(b);
    if (!t || t.count !== s.count || t.xor !== s.xor) out.push(b);
  }
  for (const b of target.keys()) if (!source.has(b)) out.push(b);
  return out;
}

/**
 * The tracking table's summary, on the target connection, under a savepoint: a key type without a
 * hash function fails here, and the caller then scans everything instead.
 */
export async function trackingSummary(client: pg.ClientBase, trackingSql: string, keyNames: string[], markColumn: string, grouped = true): Promise<Map<string, BucketSummary> | undefined> {
  const sql = summarySql(`FROM ${trackingSql} t`, keyNames.map((k) => `t.${quoteIdent(k)}`), `t.${quoteIdent(markColumn)}`, grouped);
  await client.query('SAVEPOINT tablesync_summary');
  try {
    const { rows } = await client.query(sql);
    await client.query('RELEASE SAVEPOINT tablesync_summary');
    return toSummaryMap(rows as { b: string; n: string; x: string }[]);
  } catch {
    await client.query('ROLLBACK TO SAVEPOINT tablesync_summary');
    await client.query('RELEASE SAVEPOINT tablesync_summary');
    return undefined;
  }
}

/** `= ANY('{…}'::int8[])` over bucket numbers (digits only, so a literal is safe; COPY takes no parameters). */
export function bucketListSql(buckets: string[]): string {
  for (const b of buckets) if (!/^\d+$/.test(b)) throw new Error(`not a bucket number: ${b}`);
  return `'{${buckets.join(',')}}'::int8[]`;
}
