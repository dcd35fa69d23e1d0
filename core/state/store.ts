/**
 * The `tablesync` schema in the TARGET database: what each flow created (with the spec it was
 * created from) and, per flow, a typed row-tracking table (key → ordinal or fingerprint). Keeping it
 * next to the data means any machine that opens the flow sees the same state, and state changes
 * commit or roll back together with the rows they describe.
 */
import type pg from 'pg';
import { fitIdentifier, internalName, qualifiedName, quoteIdent } from '../sql/ident';

export const STATE_SCHEMA = 'tablesync';
export const FLOWS_TABLE = 'flows';

/** A column of the target table as TableSync created it. */
export interface StateColumn {
  name: string;
  /** The source column it is filled from (recorded since renames are planned as renames; older state lacks it). */
  sourceName?: string;
  type: string;
  nullable: boolean;
  keyPosition: number | null;
}

export interface StateVectorIndex {
  name: string;
  indexName: string;
  /** The CREATE INDEX statement it was created with: any difference means recreate. */
  sql: string;
}

export interface StateAttachment {
  name: string;
  setupSql: string;
  teardownSql?: string;
}

/** Setup state of one flow, stored as jsonb in tablesync.flows. */
export interface FlowSetupState {
  version: 1;
  target: { schema: string; table: string; managedBy: 'system' | 'user'; created: boolean };
  columns: StateColumn[];
  vectorIndexes: StateVectorIndex[];
  attachments: StateAttachment[];
  /** `ordinalType`: the tracked ordinal's type (the source ordinal column's), so both sides hash typed values. */
  tracking: { table: string; mode: 'ordinal' | 'fingerprint'; keyColumns: StateColumn[]; ordinalType?: string };
  /** Hash of what makes a tracked ordinal/fingerprint comparable (value columns and types); differs → re-read every row. */
  rowSpec: string;
}

export interface FlowStateRow {
  setup: FlowSetupState;
  /** Owned by core/live (trigger, function, channel on the source); opaque here. */
  live: unknown;
  updatedAt: string;
}

export const flowsTableSql = qualifiedName(STATE_SCHEMA, FLOWS_TABLE);

/** Statements that create the state schema; idempotent. */
export function stateSchemaSql(): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(STATE_SCHEMA)}`,
    `CREATE TABLE IF NOT EXISTS ${flowsTableSql} (\n  flow text PRIMARY KEY,\n  setup jsonb NOT NULL,\n  live jsonb,\n  updated_at timestamptz NOT NULL DEFAULT now()\n)`,
  ];
}

/** Create the state schema inside the caller's transaction (serialized so two first applies do not race). */
export async function ensureStateSchema(client: pg.ClientBase): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtext('tablesync:state-schema'))`);
  for (const sql of stateSchemaSql()) await client.query(sql);
}

export async function stateSchemaExists(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`${flowsTableSql}`]);
  return (rows[0] as { ok: string }).ok === 't';
}

/** `schemaExists`: the caller has just read stateSchemaExists (one round trip fewer). */
export async function readFlowState(client: pg.ClientBase, flow: string, schemaExists?: boolean): Promise<FlowStateRow | undefined> {
  if (!(schemaExists ?? (await stateSchemaExists(client)))) return undefined;
  const { rows } = await client.query(`SELECT setup::text AS setup, live::text AS live, updated_at::text AS updated_at FROM ${flowsTableSql} WHERE flow = $1`, [flow]);
  const r = rows[0] as { setup: string; live: string | null; updated_at: string } | undefined;
  if (!r) return undefined;
  return { setup: JSON.parse(r.setup) as FlowSetupState, live: r.live === null ? null : JSON.parse(r.live), updatedAt: r.updated_at };
}

export async function writeFlowState(client: pg.ClientBase, flow: string, setup: FlowSetupState): Promise<void> {
  await client.query(
    `INSERT INTO ${flowsTableSql} (flow, setup) VALUES ($1, $2::jsonb)
     ON CONFLICT (flow) DO UPDATE SET setup = EXCLUDED.setup, updated_at = now()`,
    [flow, JSON.stringify(setup)],
  );
}

/**
 * Record core/live's own setup (trigger/function names, channel) for a flow that has state.
 * Returns false when the flow has no state row yet (apply it first).
 */
/** The UPDATE of a flow's live state (parameter 0: the state as JSON, 1: the flow's name), returning 1 when the row exists. */
export function liveStateUpdateSql(param: (i: number) => string): string {
  return `UPDATE ${flowsTableSql} SET live = ${param(0)}::jsonb, updated_at = now() WHERE flow = ${param(1)} RETURNING 1`;
}

export async function writeLiveState(client: pg.ClientBase, flow: string, live: unknown): Promise<boolean> {
  if (!(await stateSchemaExists(client))) return false;
  const r = await client.query(liveStateUpdateSql((i) => `$${i + 1}`), [live === null || live === undefined ? null : JSON.stringify(live), flow]);
  return (r.rowCount ?? 0) > 0;
}

export async function deleteFlowState(client: pg.ClientBase, flow: string): Promise<void> {
  if (!(await stateSchemaExists(client))) return;
  await client.query(`DELETE FROM ${flowsTableSql} WHERE flow = $1`, [flow]);
}

/** Name of the flow's row-tracking table in the state schema. */
export function trackingTableName(flow: string): string {
  return fitIdentifier(`rows__${flow}`);
}

/**
 * Name of the index on the tracking table's ordinal column (in the state schema, beside the table;
 * its own prefix, so that no flow's tracking table `rows__…` can have its name).
 * A trigger-mode watch's window catch-up creates it on its first run (core/target/catch-up.ts), so that the
 * window's anchor (its 64th highest tracked ordinal) and the tracked rows in the window are read by key range, not by a scan.
 */
export function trackingOrdinalIndexName(flow: string): string {
  return fitIdentifier(`ordinal__${flow}`);
}

/** Column names of the tracking table besides the key columns, unless a key column has that name (see trackingMarkColumns). */
export const TRACK_ORDINAL = '__tablesync_ordinal';
export const TRACK_FINGERPRINT = '__tablesync_fingerprint';

/**
 * The tracking table's ordinal and fingerprint columns for these key columns: TRACK_ORDINAL and
 * TRACK_FINGERPRINT, or a free variant when a key column is named so (a source may use our prefix).
 * A function of the key names only, and the tracking table is recreated when the key changes, so
 * the names are stable for a tracking table's whole life.
 */
export function trackingMarkColumns(keyNames: readonly string[]): { ordinal: string; fingerprint: string } {
  const ordinal = internalName(TRACK_ORDINAL, keyNames);
  return { ordinal, fingerprint: internalName(TRACK_FINGERPRINT, [...keyNames, ordinal]) };
}

export function trackingTableSql(flow: string): string {
  return qualifiedName(STATE_SCHEMA, trackingTableName(flow));
}

/**
 * CREATE TABLE for the tracking table: the target's key columns (same names and types), the
 * ordinal (of the source ordinal column's type) and the fingerprint (int8). NULL in either means
 * "not known": the row is read again next time.
 */
export function createTrackingSql(flow: string, keyColumns: StateColumn[], ordinalType = 'text'): string {
  const cols = keyColumns.map((c) => `  ${quoteIdent(c.name)} ${c.type} NOT NULL`);
  const marks = trackingMarkColumns(keyColumns.map((c) => c.name));
  cols.push(`  ${quoteIdent(marks.ordinal)} ${ordinalType}`, `  ${quoteIdent(marks.fingerprint)} int8`);
  return `CREATE TABLE ${trackingTableSql(flow)} (\n${cols.join(',\n')}\n)`;
}

/** The tracking table's key, added after its first load: one index build instead of per-row index inserts. */
export function trackingPrimaryKeySql(flow: string, keyColumns: StateColumn[]): string {
  return `ALTER TABLE ${trackingTableSql(flow)} ADD PRIMARY KEY (${keyColumns.map((c) => quoteIdent(c.name)).join(', ')})`;
}

export function dropTrackingSql(flow: string): string {
  return `DROP TABLE IF EXISTS ${trackingTableSql(flow)}`;
}
