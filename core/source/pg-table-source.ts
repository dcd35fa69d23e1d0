/**
 * PgTableSource: the reference's PgTableSource (doc 002) and Postgres source (doc 000) in
 * TypeScript. Rows are key fields (every primary-key column, automatically) plus value fields,
 * values as PostgreSQL text (`string | null`), streamed from a COPY so memory stays bounded
 * whatever the table size.
 */
import type pg from 'pg';
import type { z } from 'zod';
import { TableSyncError } from '../errors';
import { copyLines, decodeCopyRow } from '../sql/copy-text';
import { resolveSource, type ResolvedSource, type SourceSpecLike } from './resolve-source';
import { copyRowsOut, scanKeyFingerprint, scanKeyOrdinal } from './copy-out';
import { countRows } from './count-rows';
import { describeTable } from '../introspect/describe-table';

export type RawRow = Record<string, string | null>;

export interface PgTableSourceOptions<Row> {
  table: string;
  /** Default `public`. */
  schema?: string;
  /**
   * Columns to read, as the reference's `columns`: key columns may be listed and are always read
   * anyway. Mutually exclusive with includedColumns.
   */
  columns?: string[];
  /** Non-key columns to include (doc 000's included_columns): listing a key column is an error. */
  includedColumns?: string[];
  ordinalColumn?: string;
  filter?: string;
  /** Turn each raw row into the caller's type. Mutually exclusive with rowSchema. */
  rowFactory?: (row: RawRow) => Row;
  /**
   * A zod object standing in for the reference's `row_type`: each row is parsed with it (coercion,
   * if wanted, is the schema's: `z.coerce.number()`), and when no columns are given its keys are.
   */
  rowSchema?: z.ZodType<Row> & { shape: Record<string, unknown> };
  signal?: AbortSignal;
}

/**
 * @example
 * const products = new PgTableSource(pool, { table: 'products', rowSchema: z.object({ id: z.string(), name: z.string() }) });
 * for await (const p of products.fetchRows()) console.log(p.id, p.name);
 */
export class PgTableSource<Row = RawRow> {
  private resolved?: Promise<ResolvedSource>;

  constructor(private readonly pool: pg.Pool, private readonly options: PgTableSourceOptions<Row>) {
    if (options.rowFactory && options.rowSchema) throw new TableSyncError('INVALID_INPUT', 'PgTableSource: rowFactory and rowSchema are mutually exclusive');
    if (options.columns && options.includedColumns) throw new TableSyncError('INVALID_INPUT', 'PgTableSource: columns and includedColumns are mutually exclusive');
  }

  /** The checked source (catalog, columns, filter); computed once. Throws the spec's first problem. */
  resolve(): Promise<ResolvedSource> {
    // a failure is not cached: the table may be created or the server reachable next time
    this.resolved ??= this.doResolve().catch((e: unknown) => {
      this.resolved = undefined;
      throw e;
    });
    return this.resolved;
  }

  private async doResolve(): Promise<ResolvedSource> {
    const o = this.options;
    const spec: SourceSpecLike = { table: o.table };
    if (o.schema !== undefined) spec.schema = o.schema;
    if (o.ordinalColumn !== undefined) spec.ordinalColumn = o.ordinalColumn;
    if (o.filter !== undefined) spec.filter = o.filter;
    if (o.includedColumns) spec.includedColumns = o.includedColumns;
    const origin = o.columns ? 'columns' : 'rowSchema';
    const columns = o.columns ?? (o.rowSchema && !o.includedColumns ? Object.keys(o.rowSchema.shape) : undefined);
    if (!columns) return resolveSource(this.pool, spec);
    // `columns` may name key columns (they are read regardless); the catalog says which.
    const keys = new Set((await describeTable(this.pool, spec.schema ?? 'public', spec.table)).primaryKey);
    spec.includedColumns = columns.filter((c) => !keys.has(c));
    try {
      return await resolveSource(this.pool, spec);
    } catch (e) {
      // name the option the user actually gave
      if (e instanceof TableSyncError && e.message.startsWith('includedColumns:')) {
        throw new TableSyncError(e.code, `${origin}:${e.message.slice('includedColumns:'.length)}`, e.detail, { cause: e });
      }
      throw e;
    }
  }

  /** Every row passing the filter, streamed: key fields then value fields. */
  async *fetchRows(): AsyncIterable<Row> {
    const resolved = await this.resolve();
    const names = [...resolved.keyColumns, ...resolved.valueColumns].map((c) => c.name);
    const { rowFactory, rowSchema } = this.options;
    for await (const line of copyLines(copyRowsOut(this.pool, resolved, this.options.signal ? { signal: this.options.signal } : {}))) {
      const values = decodeCopyRow(line);
      const raw: RawRow = {};
      for (let i = 0; i < names.length; i++) raw[names[i]!] = values[i] ?? null;
      yield rowFactory ? rowFactory(raw) : rowSchema ? (rowSchema.parse(raw) as Row) : (raw as Row);
    }
  }

  /** COPY text chunks of every row (keys then values): the bulk path to a target's COPY FROM. */
  async *copyRows(): AsyncIterable<Buffer> {
    yield* copyRowsOut(this.pool, await this.resolve(), this.options.signal ? { signal: this.options.signal } : {});
  }

  /** COPY text rows of key columns then the ordinal. */
  async *scanKeyOrdinal(): AsyncIterable<Buffer> {
    yield* scanKeyOrdinal(this.pool, await this.resolve());
  }

  /** COPY text rows of key columns then a server-computed int8 fingerprint of the values. */
  async *scanKeyFingerprint(): AsyncIterable<Buffer> {
    yield* scanKeyFingerprint(this.pool, await this.resolve());
  }

  async countRows(exact = false): Promise<{ count: number | string; exact: boolean }> {
    return countRows(this.pool, await this.resolve(), { exact });
  }
}
