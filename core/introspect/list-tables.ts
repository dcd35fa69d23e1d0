/** Tables, views and the like in one schema or in every user schema, for the explorer. */
import type pg from 'pg';
import type { TableInfo } from '../api/model';
import { RAW_TYPES } from '../connections/pool';
import { RELATION_SQL } from './describe-table';
import { relationFacts, type RelationRow } from './relation-facts';
import { SYSTEM_SCHEMA_SQL } from './list-schemas';

/**
 * Relations of kinds table, partitioned table, view, materialized view and foreign table, with
 * primary key, estimated rows and, where it applies, why one cannot be a source.
 * Without `schema`: every schema except the system ones.
 */
export async function listTables(pool: Pick<pg.Pool, 'query'>, schema?: string): Promise<TableInfo[]> {
  const where = schema === undefined ? ` AND NOT (${SYSTEM_SCHEMA_SQL})` : ' AND n.nspname = $1';
  const res = await pool.query<RelationRow>({
    text: `${RELATION_SQL}${where} ORDER BY n.nspname, c.relname`,
    values: schema === undefined ? [] : [schema],
    types: RAW_TYPES,
  });
  return res.rows.map(relationFacts);
}
