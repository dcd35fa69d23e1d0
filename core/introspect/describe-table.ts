/**
 * One relation, described from the catalog: kind, primary key (in key order), estimated rows, and
 * every column's exact type as `format_type` prints it, with what the engine needs to know about it
 * (enum labels, domain base, array element, pgvector kind and dimensions, identity, generated).
 */
import type pg from 'pg';
import type { ColumnInfo, TableDescription } from '../api/model';
import { TableSyncError } from '../errors';
import { qualifiedName } from '../sql/ident';
import { RAW_TYPES } from '../connections/pool';
import { relationFacts, type RelationRow } from './relation-facts';

type Queryable = Pick<pg.Pool, 'query'>;

const VECTOR_KINDS = new Set(['vector', 'halfvec', 'sparsevec']);

/** pg_class kinds that are not relations with rows, as a sentence says them. */
const RELKIND_NAMES: Record<string, string> = { S: 'a sequence', i: 'an index', I: 'a partitioned index', c: 'a composite type', t: 'a TOAST table' };

interface ColumnRow {
  attnum: string;
  attname: string;
  type: string;
  type_oid: string;
  atttypmod: string;
  type_schema: string;
  type_name: string;
  typtype: string;
  is_array: boolean | string;
  element_type: string | null;
  base_schema: string;
  base_name: string;
  base_typtype: string;
  base_typmod: string;
  domain_base_type: string | null;
  enum_labels: string | null;
  extension: string | null;
  nullable: string;
  default: string | null;
  attidentity: string;
  attgenerated: string;
  key_position: string | null;
}

/** Catalog query for a relation by schema and name (kinds r, p, v, m, f). */
export const RELATION_SQL = `
SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind,
       c.reltuples::float8 AS reltuples,
       obj_description(c.oid, 'pg_class') AS comment,
       pg_has_role(c.relowner, 'USAGE') AS owner_is_current_user,
       (SELECT coalesce(json_agg(a.attname ORDER BY k.ord), '[]')::text FROM pg_index i
               CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
              WHERE i.indrelid = c.oid AND i.indisprimary) AS primary_key,
       -- inheritance children (INHERITS), not partitions: see unusableReason
       (SELECT string_agg(k.oid::regclass::text, ', ' ORDER BY k.oid::regclass::text) FROM pg_inherits h JOIN pg_class k ON k.oid = h.inhrelid
         WHERE h.inhparent = c.oid AND NOT k.relispartition) AS inheritance_children
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')`;

// For arrays the interesting type (typeName, enum labels, extension, vector kind) is the element's; for a
// domain it is the domain itself (its base type is reported separately).
const COLUMNS_SQL = `
SELECT a.attnum, a.attname,
       format_type(a.atttypid, a.atttypmod) AS type,
       a.atttypid::int8 AS type_oid, a.atttypmod,
       tn.nspname AS type_schema, t.typname AS type_name, t.typtype,
       (t.typcategory = 'A' AND t.typelem <> 0) AS is_array,
       CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN format_type(t.typelem, a.atttypmod) END AS element_type,
       bn.nspname AS base_schema, b.typname AS base_name, b.typtype AS base_typtype,
       CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS base_typmod,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS domain_base_type,
       CASE WHEN b.typtype = 'e' THEN
         (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder)::text FROM pg_enum e WHERE e.enumtypid = b.oid) END AS enum_labels,
       (SELECT x.extname FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid
         WHERE d.classid = 'pg_type'::regclass AND d.objid = b.oid
           AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' LIMIT 1) AS extension,
       (NOT a.attnotnull)::text AS nullable,
       pg_get_expr(ad.adbin, ad.adrelid) AS default,
       a.attidentity::text AS attidentity, a.attgenerated::text AS attgenerated,
       (SELECT k.ord FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
         WHERE i.indrelid = a.attrelid AND i.indisprimary AND k.attnum = a.attnum) AS key_position
  FROM pg_attribute a
  JOIN pg_type t ON t.oid = a.atttypid
  JOIN pg_namespace tn ON tn.oid = t.typnamespace
  JOIN pg_type b ON b.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem ELSE t.oid END
  JOIN pg_namespace bn ON bn.oid = b.typnamespace
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
 WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum`;

/**
 * Describe `schema.table`. Throws NOT_FOUND naming the schema when it does not exist, else naming
 * the table.
 * @example const d = await describeTable(pool, 'public', 'products'); d.primaryKey // ['id']
 */
export async function describeTable(pool: Queryable, schema: string, table: string): Promise<TableDescription> {
  const rel = await pool.query<RelationRow>({ text: `${RELATION_SQL} AND n.nspname = $1 AND c.relname = $2`, values: [schema, table], types: RAW_TYPES });
  const row = rel.rows[0];
  if (!row) {
    const ns = await pool.query({ text: 'SELECT 1 FROM pg_namespace WHERE nspname = $1', values: [schema] });
    if (ns.rowCount === 0) throw new TableSyncError('NOT_FOUND', `schema "${schema}" does not exist`, { schema });
    // Something of that name that is not a table (a sequence, an index, a composite type): say what it is.
    const other = await pool.query({
      text: `SELECT c.relkind::text AS relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
      values: [schema, table],
      types: RAW_TYPES,
    });
    const kind = RELKIND_NAMES[(other.rows[0] as { relkind?: string } | undefined)?.relkind ?? ''];
    if (kind) throw new TableSyncError('UNSUPPORTED', `${qualifiedName(schema, table)} is ${kind}, not a table`, { schema, table, kind });
    throw new TableSyncError('NOT_FOUND', `table ${qualifiedName(schema, table)} does not exist`, { schema, table });
  }
  const cols = await pool.query<ColumnRow>({ text: COLUMNS_SQL, values: [row.oid], types: RAW_TYPES });
  return {
    ...relationFacts(row),
    columns: cols.rows.map(toColumnInfo),
    ownerIsCurrentUser: row.owner_is_current_user === 't' || row.owner_is_current_user === true,
  };
}

function toColumnInfo(r: ColumnRow): ColumnInfo {
  const isArray = r.is_array === true || r.is_array === 't';
  const isVector = VECTOR_KINDS.has(r.base_name) && r.extension !== null;
  const category: ColumnInfo['category'] = isArray ? 'array'
    : r.typtype === 'd' ? 'domain'
    : r.typtype === 'e' ? 'enum'
    : isVector ? 'vector'
    : r.typtype === 'c' ? 'composite'
    : r.typtype === 'r' ? 'range'
    : r.typtype === 'm' ? 'multirange'
    : r.typtype === 'p' ? 'pseudo'
    : r.type_schema === 'pg_catalog' && (r.type_name === 'json' || r.type_name === 'jsonb') ? 'json'
    : 'base';
  const typmod = Number(r.base_typmod);
  const info: ColumnInfo = {
    name: r.attname,
    position: Number(r.attnum),
    type: r.type,
    typeOid: Number(r.type_oid),
    typeName: `${r.base_schema}.${r.base_name}`,
    category,
    nullable: r.nullable === 'true',
    default: r.default,
    identity: r.attidentity === 'a' ? 'always' : r.attidentity === 'd' ? 'by default' : null,
    generated: r.attgenerated !== '',
    keyPosition: r.key_position === null ? null : Number(r.key_position),
  };
  if (r.element_type !== null) info.elementType = r.element_type;
  if (r.enum_labels !== null) info.enumLabels = JSON.parse(r.enum_labels) as string[];
  if (r.domain_base_type !== null) info.domainBaseType = r.domain_base_type;
  // pgvector keeps the dimension count in the typmod itself (-1: unconstrained).
  if (isVector && !isArray) info.vector = { kind: r.base_name as 'vector' | 'halfvec' | 'sparsevec', dimensions: typmod > 0 ? typmod : null };
  if (r.extension !== null) info.extensionType = r.extension;
  return info;
}
