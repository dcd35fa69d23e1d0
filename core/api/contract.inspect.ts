/**
 * Shapes of the inspecting half of the app (issue 11): a table's structure, the other objects of a
 * schema (sequences, functions), the other databases of the server. Part of the contract: zod
 * only, no Node (the renderer bundles it). Methods using them are in contract.ts.
 */
import { z } from 'zod';
import { columnInfo, relationKind } from './model';

export const constraintKind = z.enum(['primary key', 'unique', 'check', 'foreign key', 'exclusion']);

export const constraintInfo = z.object({
  name: z.string(),
  kind: constraintKind,
  /** Columns it covers (in its own order); empty for a check on an expression. */
  columns: z.array(z.string()),
  /** As pg_get_constraintdef prints it: `PRIMARY KEY (id)`, `CHECK ((qty > 0))`. */
  definition: z.string(),
  /** Inherited from a parent (a partition's copy of its parent's constraint). */
  inherited: z.boolean(),
  validated: z.boolean(),
});
export type ConstraintInfo = z.infer<typeof constraintInfo>;

/** A foreign key, seen from either end. */
export const foreignKeyInfo = z.object({
  name: z.string(),
  /** The referencing table and its columns. */
  fromSchema: z.string(),
  fromTable: z.string(),
  fromColumns: z.array(z.string()),
  /** The referenced table and its columns. */
  toSchema: z.string(),
  toTable: z.string(),
  toColumns: z.array(z.string()),
  onUpdate: z.string(),
  onDelete: z.string(),
  definition: z.string(),
});
export type ForeignKeyInfo = z.infer<typeof foreignKeyInfo>;

export const indexInfo = z.object({
  name: z.string(),
  /** pg_get_indexdef: `CREATE UNIQUE INDEX products_pkey ON public.products USING btree (id)`. */
  definition: z.string(),
  method: z.string(),
  primary: z.boolean(),
  unique: z.boolean(),
  /** false while a CREATE INDEX CONCURRENTLY is unfinished or failed. */
  valid: z.boolean(),
  /** The constraint it backs (primary key, unique, exclusion), if any. */
  constraint: z.string().nullable(),
  sizeBytes: z.number(),
});
export type IndexInfo = z.infer<typeof indexInfo>;

export const triggerInfo = z.object({
  name: z.string(),
  /** pg_get_triggerdef. */
  definition: z.string(),
  enabled: z.boolean(),
  /** The function it executes, schema-qualified. */
  function: z.string(),
  /**
   * Set when this is one of TableSync's own capture triggers (`{channel}_t` row trigger, `{channel}_r`
   * TRUNCATE trigger, function `{channel}_n` marked as ours): the channel, and the flow that owns it
   * when known (from the marker, the default channel name or a saved flow).
   */
  tablesync: z.object({
    role: z.enum(['row', 'truncate']),
    channel: z.string(),
    flow: z.string().nullable(),
  }).optional(),
});
export type TriggerInfo = z.infer<typeof triggerInfo>;

export const partitionInfo = z.object({
  schema: z.string(),
  name: z.string(),
  /** `FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`, `DEFAULT`. */
  bound: z.string(),
  estimatedRows: z.number().nullable(),
});

export const tableStructure = z.object({
  schema: z.string(),
  name: z.string(),
  kind: relationKind,
  owner: z.string(),
  comment: z.string().nullable(),
  columns: z.array(columnInfo.extend({ comment: z.string().nullable(), collation: z.string().nullable() })),
  constraints: z.array(constraintInfo),
  /** Foreign keys of this table (it references others). */
  foreignKeys: z.array(foreignKeyInfo),
  /** Foreign keys of other tables that reference this one. */
  referencedBy: z.array(foreignKeyInfo),
  indexes: z.array(indexInfo),
  triggers: z.array(triggerInfo),
  /** Planner estimate (pg_class.reltuples, summed over partitions); null when never analyzed. */
  estimatedRows: z.number().nullable(),
  sizes: z.object({
    /** Heap (+ TOAST, free space and visibility maps) of the table, and of its partitions. */
    tableBytes: z.number(),
    indexBytes: z.number(),
    totalBytes: z.number(),
  }),
  /** `PARTITION BY RANGE (at)` of a partitioned table. */
  partitionKey: z.string().nullable(),
  partitions: z.array(partitionInfo),
  /** For a partition: its parent and bound. */
  partitionOf: z.object({ schema: z.string(), name: z.string(), bound: z.string() }).nullable(),
  /** For a view or materialized view: its query (pg_get_viewdef). */
  viewDefinition: z.string().nullable(),
  /** The DDL as pg_dump prints it: CREATE TABLE with columns, defaults, NOT NULL and checks, then constraints, indexes, triggers. */
  ddl: z.string(),
});
export type TableStructure = z.infer<typeof tableStructure>;

/** Why these objects are in the tree but cannot be a flow's source. */
export const NOT_A_SOURCE = {
  sequence: 'sequences cannot be sources: a sequence is a counter, not a table of rows',
  function: 'functions cannot be sources: TableSync reads tables with a primary key',
} as const;

export const sequenceInfo = z.object({
  schema: z.string(),
  name: z.string(),
  dataType: z.string(),
  /** The column that owns it (`public.orders.id`), for serial and identity columns. */
  ownedBy: z.string().nullable(),
  unusableAsSource: z.string(),
});
export type SequenceInfo = z.infer<typeof sequenceInfo>;

export const functionInfo = z.object({
  schema: z.string(),
  name: z.string(),
  /** pg_get_function_identity_arguments: `a integer, b text`. */
  arguments: z.string(),
  /** pg_get_function_result, empty for a procedure. */
  returns: z.string(),
  kind: z.enum(['function', 'procedure', 'aggregate', 'window']),
  language: z.string(),
  unusableAsSource: z.string(),
});
export type FunctionInfo = z.infer<typeof functionInfo>;

export const schemaObjects = z.object({
  sequences: z.array(sequenceInfo),
  functions: z.array(functionInfo),
});
export type SchemaObjects = z.infer<typeof schemaObjects>;

export const databaseInfo = z.object({
  name: z.string(),
  /** The database this connection is on. */
  current: z.boolean(),
  /** false when this user lacks CONNECT on it. */
  canConnect: z.boolean(),
  /** null when the size cannot be read (no CONNECT privilege). */
  sizeBytes: z.number().nullable(),
  comment: z.string().nullable(),
});
export type DatabaseInfo = z.infer<typeof databaseInfo>;
