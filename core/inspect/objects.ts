/**
 * What else the explorer tree lists besides relations: a schema's sequences and functions (shown,
 * marked as not usable as sources, with why), and the other databases of the same server.
 */
import type pg from 'pg';
import { NOT_A_SOURCE, type DatabaseInfo, type SchemaObjects } from '../api/contract.inspect';
import { RAW_TYPES } from '../connections/pool';

type Queryable = Pick<pg.Pool, 'query'>;

const SEQUENCES_SQL = `
SELECT n.nspname AS schema, c.relname AS name, format_type(s.seqtypid, NULL) AS data_type,
       (SELECT quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) || '.' || quote_ident(a.attname)
          FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = tc.relnamespace
          JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
           AND d.deptype IN ('a', 'i') LIMIT 1) AS owned_by
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid
 WHERE c.relkind = 'S' AND n.nspname = $1
 ORDER BY c.relname`;

// Functions an extension installed (pgvector's hundreds) are its business, not the user's: left out.
const FUNCTIONS_SQL = `
SELECT n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args,
       coalesce(pg_get_function_result(p.oid), '') AS returns, p.prokind::text AS kind, l.lanname AS language
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
 WHERE n.nspname = $1
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
 ORDER BY p.proname, args`;

const KIND: Record<string, SchemaObjects['functions'][number]['kind']> = { f: 'function', p: 'procedure', a: 'aggregate', w: 'window' };

/** Sequences and functions of `schema`. */
export async function listSchemaObjects(pool: Queryable, schema: string): Promise<SchemaObjects> {
  const [seq, fns] = await Promise.all([
    pool.query<{ schema: string; name: string; data_type: string; owned_by: string | null }>({ text: SEQUENCES_SQL, values: [schema], types: RAW_TYPES }),
    pool.query<{ schema: string; name: string; args: string; returns: string; kind: string; language: string }>({ text: FUNCTIONS_SQL, values: [schema], types: RAW_TYPES }),
  ]);
  return {
    sequences: seq.rows.map((r) => ({ schema: r.schema, name: r.name, dataType: r.data_type, ownedBy: r.owned_by, unusableAsSource: NOT_A_SOURCE.sequence })),
    functions: fns.rows.map((r) => ({
      schema: r.schema, name: r.name, arguments: r.args, returns: r.returns, kind: KIND[r.kind] ?? 'function', language: r.language,
      unusableAsSource: NOT_A_SOURCE.function,
    })),
  };
}

const DATABASES_SQL = `
SELECT d.datname AS name, d.datname = current_database() AS current,
       has_database_privilege(d.oid, 'CONNECT') AS can_connect,
       CASE WHEN has_database_privilege(d.oid, 'CONNECT') THEN pg_database_size(d.oid) END AS size,
       shobj_description(d.oid, 'pg_database') AS comment
  FROM pg_database d
 WHERE NOT d.datistemplate AND d.datallowconn
 ORDER BY d.datname = current_database() DESC, d.datname`;

/** The databases of the server this connection is on (templates and no-connect databases left out). */
export async function listDatabases(pool: Queryable): Promise<DatabaseInfo[]> {
  const res = await pool.query<{ name: string; current: string; can_connect: string; size: string | null; comment: string | null }>({ text: DATABASES_SQL, types: RAW_TYPES });
  return res.rows.map((r) => ({
    name: r.name,
    current: r.current === 't',
    canConnect: r.can_connect === 't',
    sizeBytes: r.size === null ? null : Number(r.size),
    comment: r.comment,
  }));
}
