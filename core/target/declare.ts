/**
 * The programmatic API, with the meaning of the reference's `declare_table_target` /
 * `mount_table_target`: code declares the rows a table should hold in this run (plus vector indexes
 * and SQL attachments), and `apply()` converges the table to exactly that: declared rows upserted,
 * rows declared in an earlier run but not in this one deleted (only rows this target owns), tracked
 * like a flow's rows under the target's stable name.
 *
 * @example
 * const schema = TableSchema.fromZod(z.object({ category: z.string(), name: z.string(), price: z.number(),
 *   embedding: z.array(z.number()).meta({ vector: 384 }) }), ['category', 'name']);
 * const table = await mountTableTarget({ pool }, 'products', schema);
 * for (const p of products) table.declareRow(p);
 * table.declareVectorIndex({ column: 'embedding', metric: 'cosine', method: 'hnsw' });
 * await table.apply();
 */
import type pg from 'pg';
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { ApplyResult, ColumnInfo, Plan } from '../api/model';
import { TableSyncError } from '../errors';
import { sqlAttachmentSpec, vectorIndexSpec, type SqlAttachmentSpec, type VectorIndexSpec } from '../flow/schema';
import { withFlowLock } from '../state/lock';
import { encodeCopyRow } from '../sql/copy-text';
import { applyOn } from './apply';
import { withTargetClient } from './flow-job';
import type { SyncJob } from './job';
import { planOn } from './plan';
import type { Row, RowSource } from './row-source';
import { mapZodField, toPgText, type ColumnTypeOverride } from './type-mapping';
import { vectorKind } from './target-columns';

/** An explicit column, as the reference's ColumnDef. */
export interface ColumnDef {
  type: string;
  nullable?: boolean;
}

export class TableSchema {
  private constructor(
    readonly columns: { name: string; type: string; nullable: boolean }[],
    readonly primaryKey: string[],
  ) {
    if (primaryKey.length === 0) throw new TableSyncError('INVALID_INPUT', 'a table schema needs a primary key');
    for (const k of primaryKey) {
      if (!columns.some((c) => c.name === k)) throw new TableSyncError('INVALID_INPUT', `primary key column "${k}" is not a column of the schema`);
    }
  }

  /** Columns given explicitly: `{ price: { type: 'numeric' }, name: { type: 'text', nullable: false } }`. */
  static fromColumns(columns: Record<string, ColumnDef>, primaryKey: string[]): TableSchema {
    return new TableSchema(Object.entries(columns).map(([name, d]) => ({ name, type: d.type, nullable: d.nullable ?? true })), primaryKey);
  }

  /** Columns from a zod object schema (the `from_class` of the reference), with the type mapping of type-mapping.ts. */
  static fromZod(schema: z.ZodObject, primaryKey: string[], opts: { columnOverrides?: Record<string, ColumnTypeOverride> } = {}): TableSchema {
    const shape = schema.shape as Record<string, z.ZodType>;
    for (const name of Object.keys(opts.columnOverrides ?? {})) {
      if (!(name in shape)) throw new TableSyncError('INVALID_INPUT', `columnOverrides."${name}": the schema has no field "${name}"`);
    }
    return new TableSchema(
      Object.entries(shape).map(([name, field]) => ({ name, ...mapZodField(name, field, opts.columnOverrides?.[name]) })),
      primaryKey,
    );
  }
}

export interface TargetDatabase {
  /** Pool on the target database; a pool of one connection (PGlite) is enough. */
  pool: pg.Pool;
}

export interface DeclareOptions {
  pgSchemaName?: string;
  managedBy?: 'system' | 'user';
  /** Stable identity of this target's rows across runs (default `code:{schema}.{table}`). Renaming it makes a new owner. */
  name?: string;
}

function columnInfo(c: TableSchema['columns'][number], position: number, keyPosition: number | null): ColumnInfo {
  const kind = vectorKind(c.type);
  return {
    name: c.name, position, type: c.type, typeOid: 0, typeName: c.type, category: kind ? 'vector' : 'base',
    nullable: keyPosition === null && c.nullable, default: null, identity: null, generated: false, keyPosition,
  };
}

/** A declared run's rows as a RowSource: server-side nothing, fingerprints computed here. */
class DeclaredRows implements RowSource {
  readonly schema = 'code';
  readonly mode = 'fingerprint' as const;
  readonly keyColumns: ColumnInfo[];
  readonly valueColumns: ColumnInfo[];
  readonly rows = new Map<string, Row>();
  /** Keys come back from the target in its own text form, which need not match ours: always copy everything. */
  readonly preferFullCopy = true;
  constructor(readonly table: string, private readonly tableSchema: TableSchema) {
    const keys = tableSchema.primaryKey;
    this.keyColumns = keys.map((k, i) => columnInfo(tableSchema.columns.find((c) => c.name === k)!, i + 1, i + 1));
    this.valueColumns = tableSchema.columns.filter((c) => !keys.includes(c.name)).map((c, i) => columnInfo(c, keys.length + i + 1, null));
  }
  add(row: Record<string, unknown>): void {
    const cols = [...this.keyColumns, ...this.valueColumns];
    for (const k of this.keyColumns) {
      if (row[k.name] === undefined || row[k.name] === null) throw new TableSyncError('INVALID_INPUT', `declared row lacks primary key column "${k.name}"`);
    }
    const values = cols.map((c) => toPgText(row[c.name], c.type));
    this.rows.set(JSON.stringify(values.slice(0, this.keyColumns.length)), values);
  }
  private fingerprint(row: Row): string {
    const h = createHash('sha256').update(JSON.stringify(row.slice(this.keyColumns.length))).digest();
    return h.readBigInt64BE(0).toString();
  }
  async *scan(): AsyncIterable<Buffer> {
    let batch = '';
    for (const r of this.rows.values()) {
      batch += encodeCopyRow([...r.slice(0, this.keyColumns.length), this.fingerprint(r)]);
      if (batch.length > 65536) { yield Buffer.from(batch); batch = ''; }
    }
    if (batch) yield Buffer.from(batch);
  }
  async *copyRows(): AsyncIterable<Buffer> {
    let batch = '';
    for (const r of this.rows.values()) {
      batch += encodeCopyRow(r);
      if (batch.length > 65536) { yield Buffer.from(batch); batch = ''; }
    }
    if (batch) yield Buffer.from(batch);
  }
  async *readRowsByKeys(keys: Row[]): AsyncIterable<Row> {
    for (const k of keys) {
      const r = this.rows.get(JSON.stringify(k));
      if (r) yield r;
    }
  }
}

/** A table target for one run of declarations; `apply()` converges the table to them. */
export class TableTarget {
  private readonly source: DeclaredRows;
  private readonly vectorIndexes: VectorIndexSpec[] = [];
  private readonly attachments: SqlAttachmentSpec[] = [];
  readonly name: string;
  readonly pgSchemaName: string;
  constructor(private readonly db: TargetDatabase, readonly tableName: string, private readonly tableSchema: TableSchema, private readonly opts: DeclareOptions = {}) {
    this.pgSchemaName = opts.pgSchemaName ?? 'public';
    this.name = opts.name ?? `code:${this.pgSchemaName}.${tableName}`;
    this.source = new DeclaredRows(tableName, tableSchema);
  }

  /** Declare a row (an object with at least the key columns); a later declaration of the same key wins. */
  declareRow(row: Record<string, unknown>): void {
    this.source.add(row);
  }

  /** Declare a pgvector index, named `{table}__vector__{name ?? column}`. */
  declareVectorIndex(spec: z.input<typeof vectorIndexSpec>): void {
    this.vectorIndexes.push(vectorIndexSpec.parse(spec));
  }

  /** Declare user SQL that lives with the table (setup on create/change, teardown on removal/change). */
  declareSqlCommandAttachment(spec: SqlAttachmentSpec): void {
    this.attachments.push(sqlAttachmentSpec.parse(spec));
  }

  private job(): SyncJob {
    return {
      flowName: this.name,
      source: this.source,
      target: {
        schema: this.pgSchemaName,
        table: this.tableName,
        managedBy: this.opts.managedBy ?? 'system',
        vectorIndexes: this.vectorIndexes,
        sqlAttachments: this.attachments,
      },
      nullable: (c) => c.nullable,
      spec: { table: this.tableName, schema: this.pgSchemaName, columns: this.tableSchema.columns, key: this.tableSchema.primaryKey, vectorIndexes: this.vectorIndexes, attachments: this.attachments },
    };
  }

  /** What apply would do; writes nothing. */
  plan(): Promise<Plan> {
    const job = this.job();
    return withTargetClient({ targetPool: this.db.pool }, (c) => planOn(c, job));
  }

  /** Converge the table to the declared rows, indexes and attachments (one transaction). */
  apply(opts: { allowDestructive?: boolean } = {}): Promise<ApplyResult> {
    const job = this.job();
    return withFlowLock(this.db.pool, this.name, (c) => applyOn(c, job, opts));
  }
}

/** A pending table target (nothing touches the database until plan/apply). */
export function declareTableTarget(db: TargetDatabase, tableName: string, tableSchema: TableSchema, opts: DeclareOptions = {}): TableTarget {
  return new TableTarget(db, tableName, tableSchema, opts);
}

/** Like declareTableTarget, after checking the target database is reachable. */
export async function mountTableTarget(db: TargetDatabase, tableName: string, tableSchema: TableSchema, opts: DeclareOptions = {}): Promise<TableTarget> {
  await db.pool.query('SELECT 1');
  return declareTableTarget(db, tableName, tableSchema, opts);
}
