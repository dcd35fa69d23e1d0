/**
 * "Test connection": can we reach the server, who are we there, is pgvector around, and (given a
 * table) what may we do with it. Failures are CONNECTION_FAILED with the server's reason and the
 * address, never the password.
 */
import type pg from 'pg';
import { TableSyncError, pgErrorFields, toTableSyncError } from '../errors';
import { qualifiedName } from '../sql/ident';
import { RAW_TYPES } from './pool';

export interface TablePrivileges {
  select: boolean;
  insert: boolean;
  update: boolean;
  delete: boolean;
  trigger: boolean;
  owner: boolean;
}

export interface ConnectionTestResult {
  serverVersion: string;
  serverVersionNum: number;
  currentUser: string;
  database: string;
  pgvector: { available: boolean; installed: boolean; version: string | null };
  privileges?: TablePrivileges;
}

/**
 * @example const r = await testConnection(pool, { table: 'products' }); r.privileges?.select
 */
export async function testConnection(pool: pg.Pool, opts: { schema?: string; table?: string } = {}): Promise<ConnectionTestResult> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (e) {
    throw connectionFailed(pool, e);
  }
  try {
    const info = await client.query<Record<string, string | null>>({
      text: `SELECT current_setting('server_version') AS version, current_setting('server_version_num') AS num,
                    current_user AS "user", current_database() AS db,
                    (SELECT default_version FROM pg_available_extensions WHERE name = 'vector') AS vector_available,
                    (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS vector_installed`,
      types: RAW_TYPES,
    });
    const r = info.rows[0]!;
    const result: ConnectionTestResult = {
      serverVersion: r.version!,
      serverVersionNum: Number(r.num),
      currentUser: r.user!,
      database: r.db!,
      pgvector: {
        available: r.vector_available !== null || r.vector_installed !== null,
        installed: r.vector_installed !== null,
        version: r.vector_installed ?? r.vector_available ?? null,
      },
    };
    if (opts.table !== undefined) result.privileges = await tablePrivileges(client, opts.schema ?? 'public', opts.table);
    return result;
  } catch (e) {
    throw toTableSyncError(e, 'testing the connection');
  } finally {
    client.release();
  }
}

async function tablePrivileges(client: pg.PoolClient, schema: string, table: string): Promise<TablePrivileges> {
  const res = await client.query<Record<string, string>>({
    text: `SELECT has_table_privilege(c.oid, 'SELECT')::text AS "select", has_table_privilege(c.oid, 'INSERT')::text AS "insert",
                  has_table_privilege(c.oid, 'UPDATE')::text AS "update", has_table_privilege(c.oid, 'DELETE')::text AS "delete",
                  has_table_privilege(c.oid, 'TRIGGER')::text AS "trigger", pg_has_role(c.relowner, 'USAGE')::text AS owner
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2`,
    values: [schema, table],
    types: RAW_TYPES,
  });
  const row = res.rows[0];
  if (!row) throw new TableSyncError('NOT_FOUND', `table ${qualifiedName(schema, table)} does not exist`, { schema, table });
  const b = (k: string) => row[k] === 'true';
  return { select: b('select'), insert: b('insert'), update: b('update'), delete: b('delete'), trigger: b('trigger'), owner: b('owner') };
}

function connectionFailed(pool: pg.Pool, e: unknown): TableSyncError {
  // createPool already said which connection and what to try (connections/failure.ts).
  if (e instanceof TableSyncError) return e;
  const o = (pool as unknown as { options: pg.PoolConfig }).options;
  const where = `${o.user ?? '?'}@${o.host ?? 'localhost'}:${o.port ?? 5432}/${o.database ?? ''}`;
  let reason = e instanceof Error ? e.message : String(e);
  // pg's message for a password it could not send is about the password's type, not its value,
  // but belt and braces: never repeat a password we know.
  if (typeof o.password === 'string' && o.password.length > 0) reason = reason.split(o.password).join('***');
  const sqlstate = pgErrorFields(e)?.code;
  const sys = (e as { code?: unknown } | undefined)?.code;
  return new TableSyncError('CONNECTION_FAILED', `cannot connect to ${where}: ${reason || String(sys ?? 'unknown error')}`, {
    ...(sqlstate ? { sqlstate } : {}),
    ...(typeof sys === 'string' && !sqlstate ? { errno: sys } : {}),
  }, { cause: e });
}
