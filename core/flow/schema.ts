/**
 * The flow file (DESIGN §6): what the app saves and the CLI reads. Versioned; the flow's `name` is
 * its stable identity (like the reference's ContextKey), so renaming makes a new flow.
 *
 * This file is part of the API contract and is shared with the renderer: zod only.
 */
import { z } from 'zod';

/** PostgreSQL identifiers: non-empty, no NUL; length is checked in bytes where it matters (63). */
export const identifier = z.string().min(1, 'must not be empty').refine((s) => !s.includes('\0'), 'must not contain a NUL byte');

export const connectionRef = z.union([
  z.object({ url: z.string().min(1) }).strict(),
  z.object({ env: z.string().min(1) }).strict(),
  z.object({ saved: z.string().min(1) }).strict(),
]);
export type ConnectionRef = z.infer<typeof connectionRef>;

export const notificationSpec = z.object({
  channelName: identifier.optional(),
  /**
   * The source allows prepared transactions (max_prepared_transactions > 0), and PostgreSQL refuses
   * to PREPARE a transaction that ran NOTIFY: with the capture trigger on the table, a transaction
   * that writes it can no longer be prepared. Trigger capture is refused there unless this says you
   * accept that (no two-phase commit writes this table); logical capture has no such limit.
   */
  acceptPrepareFailures: z.boolean().optional(),
}).strict();

/**
 * Logical-replication capture (instead of `notification`): a publication for the table and a
 * pgoutput slot; names default to `tablesync_{flow}` (fitted to 63 bytes). See core/live/logical.ts.
 */
export const replicationSpec = z.object({
  slotName: z.string().regex(/^[a-z0-9_]{1,63}$/, 'a replication slot name is 1 to 63 lower-case letters, digits and underscores').optional(),
  publicationName: identifier.optional(),
}).strict();
export type ReplicationSpec = z.infer<typeof replicationSpec>;

export const sourceSpec = z.object({
  connection: connectionRef,
  schema: identifier.default('public'),
  table: identifier,
  includedColumns: z.array(identifier).optional(),
  ordinalColumn: identifier.optional(),
  filter: z.string().trim().min(1).optional(),
  notification: notificationSpec.optional(),
  replication: replicationSpec.optional(),
}).strict().superRefine((s, ctx) => {
  if (s.notification && s.replication) {
    ctx.addIssue({ code: 'custom', message: 'a source captures changes either by notification (trigger + NOTIFY) or by replication (logical replication slot), not both: remove one', path: ['replication'] });
  }
});
export type SourceSpec = z.infer<typeof sourceSpec>;
export type SourceSpecInput = z.input<typeof sourceSpec>;

export const columnOverride = z.object({
  name: identifier.optional(),
  type: z.string().trim().min(1).optional(),
}).strict();
export type ColumnOverride = z.infer<typeof columnOverride>;

export const vectorIndexSpec = z.object({
  name: identifier.optional(),
  column: identifier,
  metric: z.enum(['cosine', 'l2', 'ip']).default('cosine'),
  method: z.enum(['ivfflat', 'hnsw']).default('ivfflat'),
  lists: z.number().int().positive().optional(),
  m: z.number().int().positive().optional(),
  efConstruction: z.number().int().positive().optional(),
}).strict().superRefine((v, ctx) => {
  if (v.method === 'ivfflat' && (v.m !== undefined || v.efConstruction !== undefined)) {
    ctx.addIssue({ code: 'custom', message: '`m` and `efConstruction` apply to hnsw only', path: ['method'] });
  }
  if (v.method === 'hnsw' && v.lists !== undefined) {
    ctx.addIssue({ code: 'custom', message: '`lists` applies to ivfflat only', path: ['lists'] });
  }
});
export type VectorIndexSpec = z.infer<typeof vectorIndexSpec>;

export const sqlAttachmentSpec = z.object({
  name: z.string().min(1),
  setupSql: z.string().trim().min(1),
  teardownSql: z.string().trim().min(1).optional(),
}).strict();
export type SqlAttachmentSpec = z.infer<typeof sqlAttachmentSpec>;

export const targetSpec = z.object({
  connection: connectionRef,
  schema: identifier.default('public'),
  table: identifier,
  managedBy: z.enum(['system', 'user']).default('system'),
  columns: z.record(z.string(), columnOverride).optional(),
  vectorIndexes: z.array(vectorIndexSpec).optional(),
  sqlAttachments: z.array(sqlAttachmentSpec).optional(),
}).strict();
export type TargetSpec = z.infer<typeof targetSpec>;

/**
 * How the initial load moves rows (core/target/initial-load.ts): `streams` parallel row streams
 * (1 = one stream in the apply's own transaction; more: plus one stream for the tracking marks).
 * Default: by the table's size, 1 below 250,000 rows, else 2 or 3, within what both servers'
 * max_connections leave free.
 */
/** The most parallel streams an initial load takes (flow `load.streams`, `apply --streams`). */
export const MAX_LOAD_STREAMS = 16;

export const loadSpec = z.object({
  streams: z.number().int().min(1).max(MAX_LOAD_STREAMS).optional(),
}).strict();
export type LoadSpec = z.infer<typeof loadSpec>;

export const flowSpec = z.object({
  version: z.literal(1),
  name: identifier,
  source: sourceSpec,
  target: targetSpec,
  load: loadSpec.optional(),
}).strict().superRefine((f, ctx) => {
  const names = new Set<string>();
  for (const [i, a] of (f.target.sqlAttachments ?? []).entries()) {
    if (names.has(a.name)) ctx.addIssue({ code: 'custom', message: `duplicate attachment name "${a.name}"`, path: ['target', 'sqlAttachments', i, 'name'] });
    names.add(a.name);
  }
  const idx = new Set<string>();
  for (const [i, v] of (f.target.vectorIndexes ?? []).entries()) {
    const n = v.name ?? v.column;
    if (idx.has(n)) ctx.addIssue({ code: 'custom', message: `duplicate vector index name "${n}"`, path: ['target', 'vectorIndexes', i] });
    idx.add(n);
  }
});
export type Flow = z.infer<typeof flowSpec>;
export type FlowInput = z.input<typeof flowSpec>;
