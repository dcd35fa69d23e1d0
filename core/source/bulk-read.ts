/**
 * The initial load's source side: N readers that see ONE snapshot (the first exports it with
 * pg_export_snapshot, the others import it with SET TRANSACTION SNAPSHOT), each reading one range,
 * in COPY binary or text. What the N streams return together is exactly the table as of that
 * snapshot, and the rows and their marks (ordinal / fingerprint, for tracking) come from the same
 * snapshot, so tracking describes exactly the rows that were loaded. The ranges:
 * - a plain table: ranges of heap blocks (`ctid >= '(b1,0)' AND ctid < '(b2,0)'`, a TID range scan,
 *   PostgreSQL 14+): every row version the snapshot sees has exactly one ctid, so every row is in
 *   exactly one range, and each reader reads only its own blocks, in physical order (a key range
 *   is an index scan in key order or a sequential scan of the whole table for every reader);
 * - a partitioned table (its partitions have block numbers of their own), or a table of fewer
 *   blocks than ranges asked for: ranges of the leading key
 *   column (`k < b1`, `b1 <= k < b2`, …, `k >= bN-1`, compared by the column's own operator and
 *   collation, with bounds taken from the column itself), which partition pruning can use.
 *
 * Every reader is a dedicated client in `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` with the
 * source settings, ended like every read (read-only.ts); the filter inside was validated by
 * resolveSource.
 */
import { LONG_WORK_SQL } from '../sql/long-work';
import type pg from 'pg';
import type { Readable } from 'node:stream';
import { copyOutFrames } from '../sql/copy-relay';
import { TableSyncError, toTableSyncError } from '../errors';
import { qualifiedName, quoteIdent, quoteLiteral } from '../sql/ident';
import { END_READ_ONLY_SQL, connect } from './read-only';
import type { ResolvedSource } from './resolve-source';
import { SOURCE_SETTINGS_SQL, fromWhereSql, keyListSql, selectListSql } from './source-sql';
import { BackendCancel, cancelSenderForPool, cancelWasSent } from '../connections/cancel';

/** One range of the source: `lo <= x < hi` (undefined: unbounded), x the heap block (`by: 'block'`, a block number) or the leading key column (a value's text). */
export interface BulkRange {
  by: 'block' | 'key';
  lo?: string;
  hi?: string;
}

/** One reader in the shared snapshot: the COPYs it can run, one after the other, each of any range (undefined: the whole table). */
export interface BulkReader {
  /** COPY of key columns then value columns of the range's rows that pass the filter, as whole CopyData messages (for copyInFrames, core/sql/copy-relay.ts). */
  rows(range: BulkRange | undefined, format: 'binary' | 'text'): Readable;
  /** COPY of key columns then `marks` (SQL expressions over the table, built by the caller from constants and quoted names), as whole CopyData messages. */
  marks(marks: string[], range: BulkRange | undefined, format: 'binary' | 'text'): Readable;
}

/** How many ranges to cut the table into (fewer when it is small), and how many readers to open for that many ranges. */
export interface BulkReadShape {
  ranges: number;
  readers: (ranges: number) => number;
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

/**
 * N-1 block numbers splitting a plain table's heap into N equal ranges; undefined for a
 * partitioned table (its partitions number their blocks each from 0) and for a table of fewer than
 * N blocks (a small one: its key splits finer) or on a server before PostgreSQL 14 (no TID range scans). Blocks added after the snapshot hold only rows it
 * does not see; they fall in the last, open range.
 */
async function blockSplitPoints(client: pg.ClientBase, resolved: ResolvedSource, n: number): Promise<string[] | undefined> {
  if (resolved.description.kind !== 'table') return undefined;
  if (n <= 1) return [];
  // A TID range (ctid >= …) is a TID Range Scan from PostgreSQL 14 on; before, each range would read the whole table.
  const { rows } = await client.query(
    `SELECT CASE WHEN current_setting('server_version_num')::int >= 140000 THEN pg_relation_size($1::regclass) / current_setting('block_size')::int8 END AS b`,
    [qualifiedName(resolved.schema, resolved.table)],
  );
  const b = (rows[0] as { b: string | null }).b;
  if (b === null) return undefined;
  const blocks = Number(b);
  if (blocks < n) return undefined;
  return Array.from({ length: n - 1 }, (_, i) => String(Math.floor((blocks * (i + 1)) / n)));
}

function rangeSql(resolved: ResolvedSource, range: BulkRange | undefined): string[] {
  const out: string[] = [];
  if (!range) return out;
  if (range.by === 'block') {
    // (b,0) sorts before every tuple of block b (line pointers start at 1).
    if (range.lo !== undefined) out.push(`ctid >= '(${Number(range.lo)},0)'::tid`);
    if (range.hi !== undefined) out.push(`ctid < '(${Number(range.hi)},0)'::tid`);
    return out;
  }
  const k = resolved.keyColumns[0]!;
  const lit = (v: string) => `${quoteLiteral(v)}::${k.type}`;
  if (range.lo !== undefined) out.push(`${quoteIdent(k.name)} >= ${lit(range.lo)}`);
  if (range.hi !== undefined) out.push(`${quoteIdent(k.name)} < ${lit(range.hi)}`);
  return out;
}

/**
 * COPY `query` on `client`, as a stream of whole CopyData messages (started now: pass it straight
 * to copyInFrames). Its failure is a TableSyncError that names `context`; a cancel is CANCELLED.
 */
function copyOn(client: pg.ClientBase, query: string, format: 'binary' | 'text', context: string, signal?: AbortSignal): Readable {
  const cancelled = (cause?: unknown) => new TableSyncError('CANCELLED', `${context}: cancelled`, undefined, cause === undefined ? undefined : { cause });
  const stream = copyOutFrames(`COPY (${query}) TO STDOUT${format === 'binary' ? ' (FORMAT binary)' : ''}`, (e) => (signal?.aborted ? cancelled(e) : toTableSyncError(e, context)));
  if (signal?.aborted) {
    stream.destroy(cancelled());
    return stream;
  }
  client.query(stream);
  const onAbort = () => stream.destroy(cancelled());
  signal?.addEventListener('abort', onAbort, { once: true });
  stream.once('close', () => signal?.removeEventListener('abort', onAbort));
  return stream;
}

/**
 * Cut the table into `shape.ranges` ranges (fewer when it is small), open `shape.readers(ranges)`
 * readers on one snapshot, run `fn`, then end every reader. A reader left mid-COPY (a failure, a
 * cancel) is destroyed, not returned to the pool.
 */
export async function withBulkReaders<T>(
  pool: pg.Pool,
  resolved: ResolvedSource,
  shape: BulkReadShape,
  fn: (readers: BulkReader[], ranges: BulkRange[]) => Promise<T>,
  opts: { signal?: AbortSignal; estimatedRows?: number } = {},
): Promise<T> {
  const clients: pg.PoolClient[] = [];
  let ok = false;
  // Every reader's statement is cancelled, again and again until this settles: a cancel that lands
  // between two statements (the split points, a reader's snapshot import, two COPYs) would cancel
  // nothing, and the next statement would run to its end. (core/connections/cancel.ts)
  const cancel = new BackendCancel(cancelSenderForPool(pool));
  const hold = (c: pg.PoolClient) => { clients.push(c); cancel.add(c); };
  const onAbort = () => cancel.cancel();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (opts.signal?.aborted) throw new TableSyncError('CANCELLED', 'reading the source: cancelled before it started');
    const first = await connect(pool);
    hold(first);
    await first.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${SOURCE_SETTINGS_SQL}; ${LONG_WORK_SQL}`).catch((e: unknown) => { throw toTableSyncError(e, 'reading the source'); });
    const blocks = await blockSplitPoints(first, resolved, shape.ranges);
    const by = blocks ? 'block' : 'key';
    const points = blocks ?? (await splitPoints(first, resolved, shape.ranges, opts.estimatedRows ?? 0));
    const ranges: BulkRange[] = [];
    for (let i = 0; i <= points.length; i++) ranges.push({ by, ...(i > 0 ? { lo: points[i - 1]! } : {}), ...(i < points.length ? { hi: points[i]! } : {}) });
    const n = Math.max(1, Math.trunc(shape.readers(ranges.length)));
    if (n > 1) {
      const snap = (await first.query(`SELECT pg_export_snapshot() AS s`)).rows[0] as { s: string };
      // The others at once: each connects and imports the snapshot while the first holds it.
      const others = await Promise.allSettled(Array.from({ length: n - 1 }, async () => {
        const c = await connect(pool);
        hold(c);
        await c.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT ${quoteLiteral(snap.s)}; ${SOURCE_SETTINGS_SQL}; ${LONG_WORK_SQL}`).catch((e: unknown) => { throw toTableSyncError(e, 'reading the source (sharing the first reader\'s snapshot)'); });
      }));
      const failed = others.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
    const rel = `${quoteIdent(resolved.schema)}.${quoteIdent(resolved.table)}`;
    const readers = clients.map((client): BulkReader => ({
      rows: (range, format) => copyOn(client, `SELECT ${selectListSql(resolved)} ${fromWhereSql(resolved, rangeSql(resolved, range))}`, format, `reading ${rel}`, opts.signal),
      marks: (marks, range, format) => copyOn(client, `SELECT ${keyListSql(resolved)}, ${marks.join(', ')} ${fromWhereSql(resolved, rangeSql(resolved, range))}`, format, `scanning ${rel}`, opts.signal),
    }));
    const out = await fn(readers, ranges);
    ok = true;
    return out;
  } catch (e) {
    if (opts.signal?.aborted && !(e instanceof TableSyncError && e.code === 'CANCELLED')) throw new TableSyncError('CANCELLED', 'reading the source: cancelled', undefined, { cause: e });
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    // (a reader thrown away mid-COPY after a cancel is ended on the server first: settle's abandon)
    await cancel.settle({ abandon: ok ? [] : clients });
    for (const c of clients) {
      if (ok && !cancelWasSent(c)) {
        const clean = await c.query(END_READ_ONLY_SQL).then(() => true, () => false);
        c.release(clean ? undefined : true);
      } else c.release(true);
    }
  }
}
