/**
 * The data the engine hands to its callers (CLI, API dispatcher, renderer): catalog entries, plans,
 * apply progress and results, change events, listener status. zod schemas, so the API boundary can
 * validate them and the renderer can share the types. Part of the contract: zod only, no Node.
 *
 * Values of table cells are PostgreSQL's own text form (`string`) or `null` for SQL NULL, never JS
 * numbers or Dates: bigint past 2^53, numeric precision and timestamptz microseconds survive.
 */
import { z } from 'zod';

/** A cell: PostgreSQL's text output, or null for SQL NULL. */
export const cell = z.string().nullable();
export type Cell = z.infer<typeof cell>;

// ---------------------------------------------------------------- catalog

export const relationKind = z.enum(['table', 'partitioned table', 'view', 'materialized view', 'foreign table']);
export type RelationKind = z.infer<typeof relationKind>;

export const typeCategory = z.enum(['base', 'enum', 'domain', 'array', 'composite', 'range', 'multirange', 'pseudo', 'vector', 'json']);

export const columnInfo = z.object({
  name: z.string(),
  /** attnum: position in the table. */
  position: z.number().int(),
  /** Exact type as format_type prints it: `numeric(12,2)`, `character varying(40)`, `vector(384)`, `"My Enum"[]`. */
  type: z.string(),
  /** Type OID (of the column's type; for arrays the array type). */
  typeOid: z.number().int(),
  /** Schema-qualified name of the base type, for enums/domains/extension types (`public.mood`). */
  typeName: z.string(),
  category: typeCategory,
  /** For arrays: the element's exact type. */
  elementType: z.string().optional(),
  /** Enum labels, when the column (or its array element) is an enum. */
  enumLabels: z.array(z.string()).optional(),
  /** Domain's base type, when the column is a domain. */
  domainBaseType: z.string().optional(),
  /** vector / halfvec / sparsevec and dimensions (null when unconstrained). */
  vector: z.object({ kind: z.enum(['vector', 'halfvec', 'sparsevec']), dimensions: z.number().int().nullable() }).optional(),
  /** True when the type is defined by an extension (e.g. pgvector's vector) rather than core. */
  extensionType: z.string().optional(),
  nullable: z.boolean(),
  default: z.string().nullable(),
  identity: z.enum(['always', 'by default']).nullable(),
  generated: z.boolean(),
  /** 1-based position in the primary key, or null when not a key column. */
  keyPosition: z.number().int().nullable(),
});
export type ColumnInfo = z.infer<typeof columnInfo>;

export const tableInfo = z.object({
  schema: z.string(),
  name: z.string(),
  kind: relationKind,
  /** Primary-key columns in key order; empty when there is none. */
  primaryKey: z.array(z.string()),
  /** pg_class.reltuples-based estimate; null when never analyzed. */
  estimatedRows: z.number().nullable(),
  /** Why it cannot be a source, if it cannot (view, no primary key). */
  unusableAsSource: z.string().optional(),
  comment: z.string().nullable().optional(),
});
export type TableInfo = z.infer<typeof tableInfo>;

export const tableDescription = tableInfo.extend({
  columns: z.array(columnInfo),
  ownerIsCurrentUser: z.boolean().optional(),
});
export type TableDescription = z.infer<typeof tableDescription>;

// ---------------------------------------------------------------- plan

export const hazard = z.enum(['deletes-data', 'rewrites-table', 'exclusive-lock', 'runs-user-sql']);
export type Hazard = z.infer<typeof hazard>;

export const planStepKind = z.enum([
  'create-schema', 'create-extension', 'create-table', 'add-column', 'drop-column', 'rename-column', 'alter-column-type',
  'recreate-table', 'drop-table', 'create-index', 'recreate-index', 'drop-index',
  'attachment-setup', 'attachment-teardown', 'create-trigger', 'drop-trigger', 'state',
]);
export type PlanStepKind = z.infer<typeof planStepKind>;

export const planStep = z.object({
  kind: planStepKind,
  /** Human summary: `add column "price" numeric(12,2)`. */
  summary: z.string(),
  /** The exact SQL that apply will run for this step (one or more statements). */
  sql: z.array(z.string()),
  destructive: z.boolean(),
  /** Why it is destructive / what it risks, in words. */
  reason: z.string().optional(),
  hazards: z.array(hazard),
});
export type PlanStep = z.infer<typeof planStep>;

export const rowCounts = z.object({
  insert: z.number().int(),
  update: z.number().int(),
  delete: z.number().int(),
  unchanged: z.number().int(),
  /** Rows in the target table that this flow did not write (left alone), conflicts apart. */
  foreign: z.number().int(),
  /**
   * managedBy "user": rows you wrote (not written by this flow) whose key the source also has. Left
   * alone (and not counted as inserts) unless apply is allowed to take them over (`takeOver`).
   */
  conflict: z.number().int().optional(),
});
export type RowCounts = z.infer<typeof rowCounts>;

export const sampleRow = z.object({
  /** `conflict`: a row you wrote whose key the source also has (before: yours, after: the source's). */
  op: z.enum(['insert', 'update', 'delete', 'foreign', 'conflict']),
  /** Key columns (target names) → value. */
  key: z.record(z.string(), cell),
  /** Target column name → value before (update/delete/foreign) and after (insert/update). */
  before: z.record(z.string(), cell).optional(),
  after: z.record(z.string(), cell).optional(),
  /** For updates: target columns whose value changes. */
  changed: z.array(z.string()).optional(),
});
export type SampleRow = z.infer<typeof sampleRow>;

export const targetColumnPlan = z.object({
  name: z.string(),
  sourceName: z.string(),
  type: z.string(),
  nullable: z.boolean(),
  keyPosition: z.number().int().nullable(),
  /** Set when the source type will not exist in the target and needs an override. */
  needsOverride: z.string().optional(),
});

/**
 * How an initial load (the first apply into a table it creates, core/target/initial-load.ts) will
 * move the rows, as the engine chose it: the same choice apply makes, from the catalog's row
 * estimate and both servers' free connections (no scan).
 */
export const initialLoadChoice = z.object({
  /** Parallel streams on one snapshot (1: one stream in the apply's own transaction). */
  streams: z.number().int(),
  /** What the flow asks for (`load.streams`); absent: automatic (by the table's size). */
  requested: z.number().int().optional(),
  /** COPY format of the rows: binary where every column's type allows it on both sides. */
  format: z.enum(['binary', 'text']),
  /** Source rows as the catalog estimates them (0: not known). */
  estimatedRows: z.number().int(),
});
export type InitialLoadChoice = z.infer<typeof initialLoadChoice>;

export const plan = z.object({
  flow: z.string(),
  /** Fingerprint of (flow spec, source state, target state) the plan was computed from; apply checks it. */
  fingerprint: z.string(),
  computedAt: z.string(),
  source: z.object({ schema: z.string(), table: z.string(), filter: z.string().optional(), ordinalColumn: z.string().optional() }),
  target: z.object({ schema: z.string(), table: z.string(), managedBy: z.enum(['system', 'user']), exists: z.boolean() }),
  columns: z.array(targetColumnPlan),
  steps: z.array(planStep),
  rows: rowCounts,
  /** How changes were detected: per-row ordinal comparison or server-computed fingerprints. */
  rowMode: z.enum(['ordinal', 'fingerprint']),
  /**
   * Ordinal mode with a nullable ordinal column: how many source rows have no ordinal (NULL). They
   * are compared by content (a server-computed fingerprint) instead, so their changes are synced too.
   */
  withoutOrdinal: z.number().int().optional(),
  samples: z.array(sampleRow),
  /** Problems that block apply (e.g. a type that needs an override); apply refuses while any exist. */
  blockers: z.array(z.object({
    code: z.string(),
    message: z.string(),
    /** Values that do not fit a column's target type: which column, how many rows, one example. */
    column: z.string().optional(),
    failingRows: z.number().optional(),
    sample: z.object({ key: z.record(z.string(), z.string().nullable()), value: z.string() }).optional(),
  })),
  warnings: z.array(z.string()),
  /**
   * Set when applying now is an initial load (the table is new: rows COPYed straight in, no diff):
   * how it will run. The load itself may still use fewer streams (a key with fewer distinct values,
   * or a load that must run as one; the apply result says what ran).
   */
  initialLoad: initialLoadChoice.optional(),
});
export type Plan = z.infer<typeof plan>;

/** The apply phases that move rows (each reports rowsDone / rowsTotal). */
export const ROW_PHASES: ReadonlySet<string> = new Set(['scanning', 'loading', 'merging', 'deleting']);

export const applyProgress = z.object({
  flow: z.string(),
  phase: z.enum(['locking', 'ddl', 'scanning', 'loading', 'merging', 'deleting', 'indexes', 'attachments', 'committing', 'done']),
  rowsDone: z.number().int(),
  rowsTotal: z.number().int().nullable(),
  message: z.string().optional(),
});
export type ApplyProgress = z.infer<typeof applyProgress>;

export const applyResult = z.object({
  flow: z.string(),
  rows: rowCounts,
  stepsRun: z.number().int(),
  durationMs: z.number(),
  /** True when apply found the plan stale and recomputed it before running. */
  replanned: z.boolean(),
  /** With takeOver: how many rows you wrote (the plan's conflicts) this apply took over; they are the flow's now. */
  tookOver: z.number().int().optional(),
  /** With repair: the drifted rows verify found in the same transaction (each rewritten, reinserted or deleted). */
  repaired: z.object({ changed: z.number().int(), missing: z.number().int(), extra: z.number().int() }).optional(),
  /** An initial load ran: how, in the load's own words (e.g. "3 streams, binary COPY"). */
  initialLoad: z.object({ how: z.string() }).optional(),
});
export type ApplyResult = z.infer<typeof applyResult>;

// ---------------------------------------------------------------- verify

/** One drifted row: its key, and for changed rows (the first few) the cells old → new. */
export const verifyRow = z.object({
  key: z.record(z.string(), cell),
  /** What the target holds (changed, extra). */
  before: z.record(z.string(), cell).optional(),
  /** What it should hold, as the target would store it (changed, missing). */
  after: z.record(z.string(), cell).optional(),
  /** Target columns whose value differs (changed rows with before and after). */
  changed: z.array(z.string()).optional(),
});
export type VerifyRow = z.infer<typeof verifyRow>;

/** What verify found: the target against what the flow says it should hold (see core/target/verify.ts). */
export const verifyResult = z.object({
  flow: z.string(),
  /** No changed, missing or extra row. */
  equal: z.boolean(),
  /** Rows of the source that pass the filter. */
  sourceRows: z.number().int(),
  /** Rows of the target table (all of them, the flow's and any others). */
  targetRows: z.number().int(),
  counts: z.object({
    /** Tracked rows whose values differ from the source's. */
    changed: z.number().int(),
    /** Source rows the target lacks. */
    missing: z.number().int(),
    /** Tracked target rows the source no longer has (or that left the filter). */
    extra: z.number().int(),
    /** Source rows whose key is held by a target row this flow does not own (not drift: left alone). */
    notOwned: z.number().int(),
  }),
  changed: z.array(verifyRow),
  missing: z.array(verifyRow),
  extra: z.array(verifyRow),
  notOwned: z.array(verifyRow),
  /** True when a list holds fewer rows than its count says (lists are capped). */
  truncated: z.boolean(),
  /**
   * How it was decided: one summary per side; per-bucket summaries and then the keys of differing
   * buckets; or every row's hash (a column whose type only the target has: its text is sent over).
   */
  method: z.enum(['summary', 'buckets', 'rows']),
  buckets: z.object({ total: z.number().int(), differing: z.number().int() }).optional(),
  /** Columns left out of the comparison, and why. */
  unverifiedColumns: z.array(z.object({ column: z.string(), reason: z.string() })),
  warnings: z.array(z.string()),
  durationMs: z.number(),
});
export type VerifyResult = z.infer<typeof verifyResult>;

// ---------------------------------------------------------------- live

export const changeOutcome = z.enum(['applied', 'deleted', 'filtered-out', 'skipped', 'failed']);

/**
 * What a catch-up did: `window` read only the rows past the tracked ordinal (plus a bounded window
 * for late commits), `full` compared every row (with the reason: no ordinal, deletes below the
 * window, …), `slot` replayed a logical-replication slot from where the target last committed.
 */
export const catchUpInfo = z.object({
  mode: z.enum(['window', 'full', 'slot']),
  reason: z.string().optional(),
  /** Rows the catch-up changed in the target. */
  rows: z.number().int(),
  /** Source rows it looked at (window mode), when known. */
  scanned: z.number().int().nullable(),
  durationMs: z.number(),
});
export type CatchUpInfo = z.infer<typeof catchUpInfo>;

export const changeEvent = z.object({
  time: z.string(),
  flow: z.string(),
  op: z.enum(['insert', 'update', 'delete', 'truncate', 'rescan', 'catch-up']),
  key: z.record(z.string(), cell),
  outcome: changeOutcome,
  /** Source commit → target commit, when known. */
  latencyMs: z.number().nullable(),
  error: z.string().optional(),
  /** op 'catch-up': what it did (its rows count as changes: the monitor's totals include them). */
  catchUp: catchUpInfo.optional(),
});
export type ChangeEvent = z.infer<typeof changeEvent>;

export const listenerState = z.enum(['stopped', 'connecting', 'catching-up', 'live', 'reconnecting', 'failed']);
export const listenerStatus = z.object({
  time: z.string(),
  flow: z.string(),
  channel: z.string(),
  state: listenerState,
  reason: z.string().optional(),
  attempt: z.number().int().optional(),
  /** Rows applied by the last catch-up. */
  caughtUp: z.number().int().optional(),
  /** The last catch-up (with state 'live' after it). */
  catchUp: catchUpInfo.optional(),
  /**
   * How stale the target is: ms since it was last known to match the source (a catch-up's start,
   * or the moment the last batch was taken when nothing was left waiting); 0 when nothing waits.
   */
  stalenessMs: z.number().optional(),
  /** Logical-replication capture: how much WAL the slot holds back on the source. */
  slot: z.object({
    name: z.string(),
    lagBytes: z.number().nullable(),
    lagMs: z.number().nullable(),
    /** Set when the lag passed the warning threshold, or the slot was invalidated. */
    warning: z.string().optional(),
    /**
     * The slot was invalidated (max_slot_wal_keep_size: the server removed WAL it needed): the watch
     * failed and only a resync gets it back (watch start with `resync`: drop and recreate the slot, full catch-up).
     */
    lost: z.boolean().optional(),
  }).optional(),
});
export type ListenerStatus = z.infer<typeof listenerStatus>;
