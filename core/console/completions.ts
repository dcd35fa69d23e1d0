/** Tables, views and their columns per schema, for the console editor's completion. */
import type pg from 'pg';
import type { CompletionSchema } from '../api/contract.console';
import { RAW_TYPES } from '../connections/pool';
import { SYSTEM_SCHEMA_SQL } from '../introspect/list-schemas';

/** At most this many relations (a catalog with 100k tables completes the first ones). */
const MAX_RELATIONS = 5000;

export async function completionSchema(pool: Pick<pg.Pool, 'query'>): Promise<CompletionSchema> {
  const r = await pool.query<{ schema: string; name: string; cols: string }>({
    text: `SELECT n.nspname AS schema, c.relname AS name,
                  coalesce((SELECT json_agg(a.attname ORDER BY a.attnum) FROM pg_attribute a
                             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]')::text AS cols
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT (${SYSTEM_SCHEMA_SQL}) AND has_schema_privilege(n.oid, 'USAGE')
            ORDER BY n.nspname, c.relname LIMIT ${MAX_RELATIONS}`,
    types: RAW_TYPES,
  });
  const out: CompletionSchema = {};
  for (const row of r.rows) (out[row.schema] ??= {})[row.name] = JSON.parse(row.cols) as string[];
  return out;
}
