/**
 * Installs, checks and removes the capture objects on the source table. `ensureCapture` runs on
 * every (re)connect of the listener: it is one catalog query when everything is in place, and it
 * repairs a trigger someone dropped or a function from an older TableSync.
 */
import type pg from 'pg';
import { TableSyncError, pgErrorFields, toTableSyncError } from '../errors';
import { qualifiedName } from '../sql/ident';
import type { CaptureNames } from './channel';
import { captureDropSql, captureSql, hashFromComment, ROW_TRIGGER_TYPE, TRUNCATE_TRIGGER_TYPE, type CaptureTable } from './capture-sql';

export type CaptureState = 'missing' | 'outdated' | 'current';

interface CatalogRow {
  table_oid: string | null;
  owner: string | null;
  current_user: string;
  is_owner: boolean | string | null;
  fn_oid: string | null;
  fn_comment: string | null;
  row_ok: boolean | string;
  truncate_ok: boolean | string;
}

const truthy = (v: boolean | string | null): boolean => v === true || v === 't';

async function inspect(client: pg.Pool | pg.PoolClient, t: CaptureTable, names: CaptureNames): Promise<{ state: CaptureState; owner: string | null; currentUser: string; isOwner: boolean }> {
  // Type parsers are raw text in the engine's pools: booleans arrive as 't'/'f', OIDs as text.
  const { rows } = await client.query<CatalogRow>(
    `SELECT c.oid AS table_oid, pg_get_userbyid(c.relowner) AS owner, current_user AS current_user,
            pg_has_role(current_user, c.relowner, 'USAGE') AS is_owner,
            p.oid AS fn_oid, obj_description(p.oid, 'pg_proc') AS fn_comment,
            EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = $3 AND g.tgfoid = p.oid
                      AND g.tgtype = $5 AND g.tgenabled <> 'D') AS row_ok,
            EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = $4 AND g.tgfoid = p.oid
                      AND g.tgtype = $6 AND g.tgenabled <> 'D') AS truncate_ok
       FROM (SELECT to_regclass($1) AS oid) r
       LEFT JOIN pg_class c ON c.oid = r.oid
       LEFT JOIN pg_proc p ON p.oid = to_regprocedure($2)`,
    [
      qualifiedName(t.schema, t.table),
      `${qualifiedName(t.schema, names.functionName)}()`,
      names.rowTrigger,
      names.truncateTrigger,
      ROW_TRIGGER_TYPE,
      TRUNCATE_TRIGGER_TYPE,
    ],
  );
  const r = rows[0];
  if (!r?.table_oid) {
    throw new TableSyncError('NOT_FOUND', `source table ${qualifiedName(t.schema, t.table)} does not exist`, { schema: t.schema, table: t.table });
  }
  const sql = captureSql(t, names);
  let state: CaptureState = 'current';
  if (!r.fn_oid || !truthy(r.row_ok) || !truthy(r.truncate_ok)) state = r.fn_oid ? 'outdated' : 'missing';
  else if (hashFromComment(r.fn_comment) !== sql.hash) state = 'outdated';
  return { state, owner: r.owner, currentUser: r.current_user, isOwner: truthy(r.is_owner) };
}

/** Whether the capture objects exist with the definition this version of TableSync would create. */
export async function captureState(pool: pg.Pool, t: CaptureTable, names: CaptureNames): Promise<CaptureState> {
  return (await inspect(pool, t, names)).state;
}

/**
 * Create the function and triggers, or replace them when their definition is out of date; leave
 * them alone when current (so an administrator can install them once for a user who may not).
 * Returns what it found before acting.
 *
 * Throws PERMISSION_DENIED, with the SQL an administrator can run in `detail.sql`, when the
 * connecting user may not create them (a trigger needs ownership of the table).
 */
export async function ensureCapture(pool: pg.Pool, t: CaptureTable, names: CaptureNames): Promise<CaptureState> {
  const before = await inspect(pool, t, names);
  if (before.state === 'current') return before.state;
  const sql = captureSql(t, names);
  const table = qualifiedName(t.schema, t.table);
  const denied = (cause?: unknown) => new TableSyncError(
    'PERMISSION_DENIED',
    `cannot create the change-capture trigger on ${table}: the user "${before.currentUser}" does not own it` +
      `${before.owner ? ` (owner: "${before.owner}")` : ''}. Ask an administrator to run this SQL (as the owner), then start again:\n${sql.script}`,
    { schema: t.schema, table: t.table, owner: before.owner, user: before.currentUser, sql: sql.script, ...(cause ? { sqlstate: pgErrorFields(cause)?.code } : {}) },
    cause ? { cause } : undefined,
  );
  if (!before.isOwner) throw denied();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    for (const statement of sql.install) await client.query(statement);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    if (pgErrorFields(e)?.code === '42501') throw denied(e);
    throw toTableSyncError(e, `installing the change-capture trigger on ${table}`);
  } finally {
    client.release();
  }
  return before.state;
}

/** Remove both triggers and the function (the flow is being dropped). A missing table is fine. */
export async function dropCapture(pool: pg.Pool | pg.PoolClient, t: Pick<CaptureTable, 'schema' | 'table'>, names: CaptureNames): Promise<void> {
  const drop = captureDropSql(t, names);
  const { rows } = await pool.query<{ oid: string | null }>('SELECT to_regclass($1) AS oid', [qualifiedName(t.schema, t.table)]);
  const statements = rows[0]?.oid ? drop : drop.slice(-1);
  try {
    for (const statement of statements) await pool.query(statement);
  } catch (e) {
    if (pgErrorFields(e)?.code === '42501') {
      throw new TableSyncError('PERMISSION_DENIED', `cannot remove the change-capture trigger from ${qualifiedName(t.schema, t.table)}: ask its owner to run:\n${drop.map((s) => `${s};`).join('\n')}`, { sql: drop.map((s) => `${s};`).join('\n') }, { cause: e });
    }
    throw toTableSyncError(e, `removing the change-capture trigger from ${qualifiedName(t.schema, t.table)}`);
  }
}
