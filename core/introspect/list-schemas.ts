/** Schemas of the connected database, for the explorer. */
import type pg from 'pg';
import { RAW_TYPES } from '../connections/pool';

/** SQL predicate over `n.nspname` for schemas that belong to PostgreSQL itself. */
export const SYSTEM_SCHEMA_SQL = `n.nspname IN ('pg_catalog', 'information_schema') OR n.nspname LIKE 'pg\\_toast%' OR n.nspname LIKE 'pg\\_temp\\_%'`;

export interface SchemaInfo {
  name: string;
  owner: string;
  isSystem: boolean;
}

/**
 * Every schema, user schemas first; per-session temporary and TOAST schemas are left out as noise,
 * `pg_catalog` and `information_schema` are kept and flagged as system.
 */
export async function listSchemas(pool: Pick<pg.Pool, 'query'>): Promise<SchemaInfo[]> {
  const res = await pool.query<{ name: string; owner: string; is_system: string }>({
    text: `SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner,
                  (n.nspname IN ('pg_catalog', 'information_schema'))::text AS is_system
             FROM pg_namespace n
            WHERE n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
            ORDER BY (n.nspname IN ('pg_catalog', 'information_schema')), n.nspname`,
    types: RAW_TYPES,
  });
  return res.rows.map((r) => ({ name: r.name, owner: r.owner, isSystem: r.is_system === 'true' }));
}
