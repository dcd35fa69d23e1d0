/**
 * What the target engine needs from wherever rows come from: the source table of a flow
 * (core/source) or rows declared from code (declare.ts). Everything is COPY text or server text, so
 * the engine never looks at a value it does not have to.
 */
import type pg from 'pg';
import type { ColumnInfo } from '../api/model';
import {
  copyOut, copyRowsOut, fingerprintSql, fromWhereSql, ordinalMarkSql, readRowsByKeys, resolveSource, scanKeyFingerprint, scanKeyOrdinal, scanOrdinalWindow, withReadOnly,
  filterVerdicts, type OrdinalWindow, type ResolvedSource, type StreamedRow,
} from '../source';
import { quoteIdent } from '../sql/ident';
import { summaryKeySql, summarySql, toSummary, type Summary } from './summary';
import { copyBinaryOut, serverEncoding } from './binary-scan';
import type { SourceSpec } from '../flow/schema';
import { connectionHeadroom, tableSize, withBulkReaders, type BulkReader, type BulkRange, type BulkReadShape } from '../source/bulk-read';
import { binaryCopySafe } from '../sql/binary-copy';

export type Row = (string | null)[];

export interface RowSource {
  /** For messages and the plan: where the rows come from. */
  schema: string;
  table: string;
  filter?: string;
  /** What besides the row the filter's verdict depends on (core/source/filter-dependence.ts): a plan warning. */
  filterDependsOn?: string;
  ordinalColumn?: string;
  /** The ordinal column's exact type (tracked with that type). */
  ordinalType?: string;
  keyColumns: ColumnInfo[];
  valueColumns: ColumnInfo[];
  mode: 'ordinal' | 'fingerprint';
  /**
   * Ordinal mode with a nullable ordinal column: scan() has a third mark column, the fingerprint
   * of the rows whose ordinal is NULL (NULL elsewhere), so those rows are compared by content.
   */
  nullableOrdinal?: boolean;
  /** Re-reading by key is unreliable (rows declared from code): apply copies every row and lets the merge skip unchanged ones. */
  preferFullCopy?: boolean;
  /** COPY text: key columns…, then the ordinal (text) or fingerprint (int8) of every row that passes the filter (see nullableOrdinal). */
  scan(opts?: { signal?: AbortSignal }): AsyncIterable<Buffer>;
  /** COPY text: key columns…, value columns… of every row that passes the filter. */
  copyRows(opts?: { signal?: AbortSignal }): AsyncIterable<Buffer>;
  /**
   * Ordinal mode: the rows whose ordinal is NULL or >= `from` (with the filter's verdict) and the
   * count of the filter's rows below `from`, in one snapshot (core/source/window-scan.ts).
   */
  windowScan?(from: string, limit: number, opts?: { signal?: AbortSignal }): Promise<OrdinalWindow>;
  /** Whether streamed rows (column → text, every table column) pass the filter; undefined = unknowable (see core/source/filter-values.ts). */
  filterVerdicts?(rows: StreamedRow[]): Promise<(boolean | undefined)[]>;
  /** Rows (key…, value…) for these keys that exist (and pass the filter unless ignoreFilter). */
  readRowsByKeys(keys: Row[], opts?: { ignoreFilter?: boolean }): AsyncIterable<Row>;
  /** Count and XOR-hash of (key, mark) over the rows that pass the filter (see summary.ts). */
  summary?(): Promise<Summary>;
  /** scan() in COPY binary format, from a database in `encoding` (see binary-scan.ts). */
  binaryScan?: { encoding: string; scan(): AsyncIterable<Buffer> };
  /** Server-side reads over the rows that pass the filter, for verify (see verify.ts). */
  verifyReads?: VerifyReads;
  /** The initial load's reads: N range readers on one snapshot (core/source/bulk-read.ts). */
  bulk?: BulkSource;
}

/** A source that can be read by parallel range streams in one snapshot, binary where safe. */
export interface BulkSource {
  /** The source database's encoding (binary COPY sends text in it). */
  encoding: string;
  /** Every key and value column may travel as binary COPY (core/sql/binary-copy.ts). */
  binaryRows: boolean;
  /** Key columns and marks may travel as binary COPY. */
  binaryMarks: boolean;
  /** The marks of scan() as SQL expressions (ordinal, or fingerprint; see nullableOrdinal). */
  markSql: string[];
  /** Readers this source's pool can give at once. */
  maxReaders: number;
  /** Estimated rows and heap bytes (catalog). */
  size(): Promise<{ rows: number; bytes: number }>;
  /** Connections the source server could still give. */
  headroom(): Promise<number>;
  /** Readers on one snapshot and the ranges of the table (core/source/bulk-read.ts). */
  read<T>(shape: BulkReadShape, fn: (readers: BulkReader[], ranges: BulkRange[]) => Promise<T>, opts?: { signal?: AbortSignal; estimatedRows?: number }): Promise<T>;
}

/**
 * Read-only queries over the source rows (through the filter) whose select list the caller builds
 * from quoted column names, type names held to assertTypeShape, and integer literals: never user SQL.
 */
export interface VerifyReads {
  /** `SELECT select FROM source WHERE (filter) [AND where] [GROUP BY groupBy]`, rows as text. */
  query(select: string, opts?: { where?: string; groupBy?: string; limit?: number; groupSettingsSql?: string; signal?: AbortSignal }): Promise<Record<string, string | null>[]>;
  /** The same as COPY text. */
  copy(select: string, opts?: { where?: string; groupBy?: string; signal?: AbortSignal }): AsyncIterable<Buffer>;
  /** Whether the source server can cast a value of `from` to `to` (both type names). */
  castable(from: string, to: string): Promise<boolean>;
}

/** The flow's source table as a RowSource; validates the spec (table, columns, ordinal, filter). */
export async function pgRowSource(pool: pg.Pool, spec: SourceSpec): Promise<RowSource> {
  // (independent round trips: at once; a failure to resolve the table is the one reported)
  const encodingP = serverEncoding(pool);
  encodingP.catch(() => {});
  const resolved: ResolvedSource = await resolveSource(pool, {
    schema: spec.schema,
    table: spec.table,
    ...(spec.includedColumns ? { includedColumns: spec.includedColumns } : {}),
    ...(spec.ordinalColumn ? { ordinalColumn: spec.ordinalColumn } : {}),
    ...(spec.filter ? { filter: spec.filter } : {}),
  });
  const unfiltered: ResolvedSource = { ...resolved, filter: undefined };
  const mode = resolved.ordinalColumn ? 'ordinal' : 'fingerprint';
  const nullableOrdinal = resolved.ordinalColumn?.nullable === true;
  // The marks, typed: the ordinal column (and the fingerprint where it is NULL), or the server-computed fingerprint.
  const mark = resolved.ordinalColumn ? ordinalMarkSql(resolved, nullableOrdinal).join(', ') : fingerprintSql(resolved.valueColumns);
  const keys = resolved.keyColumns.map((c) => quoteIdent(c.name));
  const encoding = await encodingP;
  return {
    schema: resolved.schema,
    table: resolved.table,
    ...(resolved.filter ? { filter: resolved.filter } : {}),
    ...(resolved.filterDependsOn ? { filterDependsOn: resolved.filterDependsOn } : {}),
    ...(resolved.ordinalColumn ? { ordinalColumn: resolved.ordinalColumn.name, ordinalType: resolved.ordinalColumn.type } : {}),
    keyColumns: resolved.keyColumns,
    valueColumns: resolved.valueColumns,
    mode,
    ...(nullableOrdinal ? { nullableOrdinal } : {}),
    scan: (opts) => (mode === 'ordinal' ? scanKeyOrdinal(pool, resolved, { ...opts, nullFingerprint: nullableOrdinal }) : scanKeyFingerprint(pool, resolved, opts)),
    copyRows: (opts) => copyRowsOut(pool, resolved, opts),
    ...(mode === 'ordinal' ? { windowScan: (from: string, limit: number, opts?: { signal?: AbortSignal }) => scanOrdinalWindow(pool, resolved, from, limit, opts) } : {}),
    readRowsByKeys: (keys, opts) => readRowsByKeys(pool, opts?.ignoreFilter ? unfiltered : resolved, keys),
    filterVerdicts: (rows) => filterVerdicts(pool, resolved, rows),
    bulk: {
      encoding,
      binaryRows: [...resolved.keyColumns, ...resolved.valueColumns].every(binaryCopySafe),
      binaryMarks: resolved.keyColumns.every(binaryCopySafe) && (!resolved.ordinalColumn || binaryCopySafe(resolved.ordinalColumn)),
      markSql: resolved.ordinalColumn ? ordinalMarkSql(resolved, nullableOrdinal) : [fingerprintSql(resolved.valueColumns)],
      maxReaders: Math.max(1, (pool as unknown as { options: { max?: number } }).options.max ?? 1),
      size: () => tableSize(pool, resolved),
      headroom: () => connectionHeadroom(pool),
      read: (shape, fn, opts) => withBulkReaders(pool, resolved, shape, fn, opts),
    },
    binaryScan: { encoding, scan: () => copyBinaryOut(pool, `SELECT ${keys.join(', ')}, ${mark} ${fromWhereSql(resolved)}`, `scanning ${resolved.schema}.${resolved.table}`) },
    verifyReads: {
      query: (select, o = {}) =>
        withReadOnly(pool, async (client) => {
          // Planner settings for the grouping (SET LOCAL only, built by the caller from constants).
          if (o.groupBy && o.groupSettingsSql) await client.query(o.groupSettingsSql);
          const { rows } = await client.query({ text: `SELECT ${select} ${fromWhereSql(resolved, o.where ? [o.where] : [])}${o.groupBy ? ` GROUP BY ${o.groupBy}` : ''}${o.limit !== undefined ? ` LIMIT ${Math.trunc(o.limit)}` : ''}`, values: [] });
          return rows as Record<string, string | null>[];
        }, { longWork: true, ...(o.signal ? { signal: o.signal } : {}) }),
      copy: (select, o = {}) => copyOut(pool, `SELECT ${select} ${fromWhereSql(resolved, o.where ? [o.where] : [])}${o.groupBy ? ` GROUP BY ${o.groupBy}` : ''}`, { context: `verifying ${resolved.schema}.${resolved.table}`, ...(o.signal ? { signal: o.signal } : {}) }),
      castable: (from, to) =>
        withReadOnly(pool, async (client) => {
          try {
            await client.query(`SELECT NULL::${from}::${to} AS x LIMIT 0`);
            return true;
          } catch {
            return false;
          }
        }),
    },
    // The filter inside was validated by resolveSource; it runs READ ONLY through core/source's door.
    summary: () =>
      withReadOnly(pool, async (client) => {
        const { rows } = await client.query({ text: summarySql(fromWhereSql(resolved), resolved.keyColumns.map((c) => summaryKeySql(c.name, c.type)), mark), values: [] });
        return toSummary(rows[0] as { n: string; x: string });
      }, { longWork: true }),
  };
}
