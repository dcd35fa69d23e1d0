/**
 * The initial load's source side: N readers that see ONE snapshot (the first exports it with
 * pg_export_snapshot, the others import it with SET TRANSACTION SNAPSHOT), each reading one range of
 * the leading key column, in COPY binary or text. What the N streams return together is exactly
 * the table as of that snapshot: every key falls in exactly one range (`k < b1`, `b1 <= k < b2`, …,
 * `k >= bN-1`, compared by the column's own operator and collation, with bounds taken from the
 * column itself), and the rows and their marks (ordinal / fingerprint, for tracking) come from the
 * same snapshot, so tracking describes exactly the rows that were loaded.
 *
 * Every reader is a dedicated client in `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` with the
 * source settings, ended like every read (read-only.ts); the filter inside was validated by
 * resolveSource.
 */
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { TableSyncError, toTableSyncError } from '../errors';
import { qualifiedName, quoteIdent, quoteLiteral } from '../sql/ident';
import { END_READ_ONLY_SQL, connect } from './read-only';
import type { ResolvedSource } from './resolve-source';
import { SOURCE_SETTINGS_SQL, fromWhereSql, keyListSql, selectListSql } from './source-sql';
import { backendPid } from '../connections/backend-pid';

/** One reader: its key range and the COPYs it can run, one after the other, in the shared snapshot. */
export interface BulkReader {
  /** `lo <= k < hi` on the leading key column, as text (undefined: unbounded). */
  range: { lo?: string; hi?: string };
  /** COPY of key columns then value columns of the range's rows that pass the filter. */
  rows(format: 'binary' | 'text'): AsyncIterable<Buffer>;
  /** COPY of key columns then `marks` (SQL expressions over the table, built by the caller from constants and quoted names). */
  marks(marks: string[], format: 'binary' | 'text'): AsyncIterable<Buffer>;
}

/** Rows and heap bytes of the table (its leaf partitions), from the catalog: an estimate (never analyzed: ~64 bytes a row). */
export async function tableSize(pool: pg.Pool, resolved: Pick<ResolvedSource, 'schema' | 'table'>): Promise<{ rows: number; bytes: number }> {
  const { rows } = await pool.query(
    `SELECT coalesce(sum(CASE WHEN c.reltuples >= 0 THEN c.reltuples ELSE pg_relation_size(c.oid) / 64 END), 0)::int8 AS n, coalesce(sum(pg_relation_size(c.oid)), 0)::int8 AS b
       FROM pg_class c
      WHERE c.oid IN (SELECT t.relid FROM pg_partition_tree($1::regclass) t WHERE t.isleaf) OR (c.oid = $1::regclass AND c.relkind = 'r')`,
    [qualifiedName(resolved.schema, resolved.table)],
  );
  const r = rows[0] as { n: string; b: string };
  return { rows: Number(r.n), bytes: Number(r.b) };
}

/** Connections the server could still give us: max_connections minus reserved and in use. */
export async function connectionHeadroom(q: pg.Pool | pg.ClientBase): Promise<number> {
  // PGlite serves one session: no second connection, no exported snapshot.
  const v = await (q as pg.Pool).query('SELECT version() AS v');
  if (/PGlite/i.test((v.rows[0] as { v: string }).v)) return 0;
  const { rows } = await (q as pg.Pool).query(
    `SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
            - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS n`,
  );
  return Number((rows[0] as { n: string }).n);
}

const SAMPLE_ROWS = 30_000;

/**
 * N-1 distinct split points of the leading key column (as text), from a sample of the table:
 * percentiles over the whole column when the table is small, else over a TABLESAMPLE of about
 * SAMPLE_ROWS rows. Fewer points when the column has fewer distinct values. Read in the snapshot.
 */
async function splitPoints(client: pg.ClientBase, resolved: ResolvedSource, n: number, estimatedRows: number): Promise<string[]> {
  if (n <= 1) return [];
  const k = quoteIdent(resolved.keyColumns[0]!.name);
  const fractions = Array.from({ length: n - 1 }, (_, i) => ((i + 1) / n).toFixed(6));
  const pct = estimatedRows > SAMPLE_ROWS * 2 ? Math.max(0.001, Math.min(100, (100 * SAMPLE_ROWS) / estimatedRows)) : undefined;
  const from = `${qualifiedName(resolved.schema, resolved.table)}${pct !== undefined ? ` TABLESAMPLE SYSTEM (${pct.toFixed(4)})` : ''}`;
  const { rows } = await client.query({
    text: `SELECT b::text AS b FROM unnest((SELECT percentile_disc(ARRAY[${fractions.join(', ')}]::float8[]) WITHIN GROUP (ORDER BY ${k}) FROM ${from})) AS u(b) WHERE b IS NOT NULL`,
    rowMode: 'array',
  });
  if (rows.length === 0) return [];
  // The points ordered (and de-duplicated) by the column itself, so with its own operators and
  // collation: exactly the order the range conditions compare in. The points are values of the
  // column (percentile_disc returns sampled values), read in the same snapshot.
  const { rows: sorted } = await client.query({
    // (t.k, not k: ORDER BY k would sort by the output column, the text.)
    text: `SELECT DISTINCT ON (t.${k}) t.${k}::text AS b FROM ${qualifiedName(resolved.schema, resolved.table)} t WHERE t.${k} = ANY($1::${resolved.keyColumns[0]!.type}[]) ORDER BY t.${k}`,
    values: [(rows as string[][]).map((r) => r[0]!)],
    rowMode: 'array',
  });
  return (sorted as string[][]).map((r) => r[0]!);
}

function rangeSql(resolved: ResolvedSource, range: BulkReader['range']): string[] {
  const k = resolved.keyColumns[0]!;
  const lit = (v: string) => `${quoteLiteral(v)}::${k.type}`;
  const out: string[] = [];
  if (range.lo !== undefined) out.push(`${quoteIdent(k.name)} >= ${lit(range.lo)}`);
  if (range.hi !== undefined) out.push(`${quoteIdent(k.name)} < ${lit(range.hi)}`);
  return out;
}

async function* copyOn(client: pg.ClientBase, query: string, format: 'binary' | 'text', context: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
  if (signal?.aborted) throw new TableSyncError('CANCELLED', `${context}: cancelled`);
  const stream = client.query(copyTo(`COPY (${query}) TO STDOUT${format === 'binary' ? ' (FORMAT binary)' : ''}`));
  const onAbort = () => stream.destroy(new Error('aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (e) {
    if (signal?.aborted) throw new TableSyncError('CANCELLED', `${context}: cancelled`, undefined, { cause: e });
    throw toTableSyncError(e, context);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Open `n` readers on one snapshot, split the leading key into `n` ranges (fewer when the key has
 * fewer distinct values), run `fn`, then end every reader. A reader left mid-COPY (a failure,
 * a cancel) is destroyed, not returned to the pool.
 */
export async function withBulkReaders<T>(
  pool: pg.Pool,
  resolved: ResolvedSource,
  n: number,
  fn: (readers: BulkReader[]) => Promise<T>,
  opts: { signal?: AbortSignal; estimatedRows?: number } = {},
): Promise<T> {
  const clients: pg.PoolClient[] = [];
  let ok = false;
  const onAbort = () => {
    for (const c of clients) {
      const pid = backendPid(c);
      if (pid !== undefined) pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => {});
    }
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const first = await connect(pool);
    clients.push(first);
    await first.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${SOURCE_SETTINGS_SQL}`).catch((e: unknown) => { throw toTableSyncError(e, 'reading the source'); });
    const points = await splitPoints(first, resolved, n, opts.estimatedRows ?? 0);
    const ranges: BulkReader['range'][] = [];
    for (let i = 0; i <= points.length; i++) ranges.push({ ...(i > 0 ? { lo: points[i - 1]! } : {}), ...(i < points.length ? { hi: points[i]! } : {}) });
    if (ranges.length > 1) {
      const snap = (await first.query(`SELECT pg_export_snapshot() AS s`)).rows[0] as { s: string };
      for (let i = 1; i < ranges.length; i++) {
        const c = await connect(pool);
        clients.push(c);
        await c.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT ${quoteLiteral(snap.s)}; ${SOURCE_SETTINGS_SQL}`).catch((e: unknown) => { throw toTableSyncError(e, 'reading the source (sharing the first reader\'s snapshot)'); });
      }
    }
    const rel = `${quoteIdent(resolved.schema)}.${quoteIdent(resolved.table)}`;
    const readers = ranges.map((range, i): BulkReader => {
      const client = clients[i]!;
      const where = rangeSql(resolved, range);
      return {
        range,
        rows: (format) => copyOn(client, `SELECT ${selectListSql(resolved)} ${fromWhereSql(resolved, where)}`, format, `reading ${rel}`, opts.signal),
        marks: (marks, format) => copyOn(client, `SELECT ${keyListSql(resolved)}, ${marks.join(', ')} ${fromWhereSql(resolved, where)}`, format, `scanning ${rel}`, opts.signal),
      };
    });
    const out = await fn(readers);
    ok = true;
    return out;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    for (const c of clients) {
      if (ok) {
        const clean = await c.query(END_READ_ONLY_SQL).then(() => true, () => false);
        c.release(clean ? undefined : true);
      } else c.release(true);
    }
  }
}
