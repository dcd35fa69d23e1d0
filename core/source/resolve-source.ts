/**
 * Turning a source spec into a checked, resolved source: every rule of reference doc 000 and
 * DESIGN §3 (Source) enforced here, before anything reads or writes, each failure a TableSyncError
 * that names the schema, table or column.
 */
import type pg from 'pg';
import type { ColumnInfo, TableDescription } from '../api/model';
import { TableSyncError } from '../errors';
import { qualifiedName, quoteIdent } from '../sql/ident';
import { ORDINAL_TYPE_OIDS } from '../api/names';
import { RAW_TYPES } from '../connections/pool';
import { describeTable } from '../introspect/describe-table';
import { NO_PRIMARY_KEY_MESSAGE } from '../introspect/relation-facts';
import { assertValidFilter } from './filter';

/** What a source is asked to read (flow `source` minus the connection). */
export interface SourceSpecLike {
  schema?: string;
  table: string;
  /** Non-key columns to include; all of them when absent. */
  includedColumns?: string[];
  ordinalColumn?: string;
  filter?: string;
}

export interface ResolvedSource {
  schema: string;
  table: string;
  description: TableDescription;
  /** Primary-key columns, in key order. */
  keyColumns: ColumnInfo[];
  /** Included non-key columns, in table order. */
  valueColumns: ColumnInfo[];
  ordinalColumn?: ColumnInfo;
  /** The validated filter; absent when none (or blank). */
  filter?: string;
  /** What besides the row the filter's verdict depends on (the time, other tables: filter-dependence.ts). */
  filterDependsOn?: string;
}

/** smallint, integer, bigint, timestamp, timestamptz: the ordinal types reference doc 000 allows (shared with the UI). */
export { ORDINAL_TYPE_OIDS };

/**
 * Check a spec against the live catalog and resolve its columns.
 * @example const r = await resolveSource(pool, { table: 'products', ordinalColumn: 'modified_at', filter: 'price > 0' })
 */
export async function resolveSource(pool: pg.Pool, spec: SourceSpecLike): Promise<ResolvedSource> {
  const schema = spec.schema ?? 'public';
  if (!spec.table) throw new TableSyncError('INVALID_INPUT', 'the source needs a table name');
  const description = await describeTable(pool, schema, spec.table);
  const rel = qualifiedName(schema, spec.table);
  if (description.kind !== 'table' && description.kind !== 'partitioned table') {
    throw new TableSyncError('UNSUPPORTED', `${rel} is a ${description.kind}: ${description.kind}s cannot be sources (${NO_PRIMARY_KEY_MESSAGE})`, { schema, table: spec.table, kind: description.kind });
  }
  if (description.primaryKey.length === 0) {
    throw new TableSyncError('NO_PRIMARY_KEY', `table ${rel} has no primary key: ${NO_PRIMARY_KEY_MESSAGE}`, { schema, table: spec.table });
  }
  // what else makes it no source (relation-facts.ts unusableReason: inheritance children)
  if (description.unusableAsSource) throw new TableSyncError('UNSUPPORTED', `table ${rel}: ${description.unusableAsSource}`, { schema, table: spec.table });
  const byName = new Map(description.columns.map((c) => [c.name, c]));
  const keyColumns = description.primaryKey.map((k) => byName.get(k)!);
  const isKey = (c: ColumnInfo) => c.keyPosition !== null;

  let valueColumns = description.columns.filter((c) => !isKey(c));
  if (spec.includedColumns) {
    const seen = new Set<string>();
    for (const name of spec.includedColumns) {
      const col = byName.get(name);
      if (!col) throw new TableSyncError('NOT_FOUND', `includedColumns: column ${quoteIdent(name)} does not exist in ${rel}`, { schema, table: spec.table, column: name });
      if (isKey(col)) throw new TableSyncError('INVALID_INPUT', `includedColumns: column ${quoteIdent(name)} is a primary-key column of ${rel}; key columns are always included, list only value columns`, { schema, table: spec.table, column: name });
      if (seen.has(name)) throw new TableSyncError('INVALID_INPUT', `includedColumns: column ${quoteIdent(name)} is listed twice`, { column: name });
      seen.add(name);
    }
    valueColumns = valueColumns.filter((c) => seen.has(c.name));
  }

  let ordinalColumn: ColumnInfo | undefined;
  if (spec.ordinalColumn !== undefined) {
    const col = byName.get(spec.ordinalColumn);
    const name = quoteIdent(spec.ordinalColumn);
    if (!col) throw new TableSyncError('NOT_FOUND', `ordinalColumn: column ${name} does not exist in ${rel}`, { schema, table: spec.table, column: spec.ordinalColumn });
    if (isKey(col)) throw new TableSyncError('INVALID_INPUT', `ordinalColumn: column ${name} is a primary-key column of ${rel}; the ordinal column must not be part of the key`, { schema, table: spec.table, column: col.name });
    if (!ORDINAL_TYPE_OIDS.has(col.typeOid)) {
      throw new TableSyncError('UNSUPPORTED', `ordinalColumn: column ${name} of ${rel} has type ${col.type}; an ordinal column must be smallint, integer, bigint, timestamp or timestamp with time zone`, { schema, table: spec.table, column: col.name, type: col.type });
    }
    ordinalColumn = col;
  }

  await assertCanRead(pool, rel, schema, spec.table, [...keyColumns, ...valueColumns, ...(ordinalColumn ? [ordinalColumn] : [])]);

  const filter = spec.filter !== undefined && spec.filter.trim() !== '' ? spec.filter : undefined;
  const filterDependsOn = filter !== undefined ? (await assertValidFilter(pool, schema, spec.table, filter)).dependsOn : undefined;

  return {
    schema,
    table: spec.table,
    description,
    keyColumns,
    valueColumns,
    ...(ordinalColumn ? { ordinalColumn } : {}),
    ...(filter !== undefined ? { filter } : {}),
    ...(filterDependsOn ? { filterDependsOn } : {}),
  };
}

/**
 * USAGE on the schema and SELECT on every column we read (table-level SELECT covers all), and no
 * row-level security between us and the rows: its policies would hide rows from every read, and a
 * sync would copy some of the table and never say so (pg_dump refuses the same way, with
 * row_security = off). A subset on purpose is source.filter's, read by a role that sees all rows.
 */
async function assertCanRead(pool: pg.Pool, rel: string, schema: string, table: string, cols: ColumnInfo[]): Promise<void> {
  const res = await pool.query<{ usage: string; denied: string; who: string; rls: string }>({
    text: `SELECT has_schema_privilege(n.oid, 'USAGE')::text AS usage, current_user AS who, row_security_active(c.oid)::text AS rls,
                  (SELECT coalesce(json_agg(a.attname ORDER BY a.attnum), '[]')::text FROM pg_attribute a
                    WHERE a.attrelid = c.oid AND a.attname = ANY($3::text[])
                      AND NOT has_column_privilege(c.oid, a.attnum, 'SELECT')) AS denied
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2`,
    values: [schema, table, cols.map((c) => c.name)],
    types: RAW_TYPES,
  });
  const row = res.rows[0];
  if (!row) throw new TableSyncError('NOT_FOUND', `table ${rel} does not exist`, { schema, table });
  if (row.usage !== 'true') {
    throw new TableSyncError('PERMISSION_DENIED', `permission denied: role "${row.who}" has no USAGE privilege on schema ${quoteIdent(schema)}`, { schema, table, role: row.who, privilege: 'USAGE' });
  }
  const denied = JSON.parse(row.denied) as string[];
  if (denied.length > 0) {
    throw new TableSyncError('PERMISSION_DENIED', `permission denied: role "${row.who}" has no SELECT privilege on ${rel} (columns ${denied.map(quoteIdent).join(', ')})`, { schema, table, role: row.who, privilege: 'SELECT', columns: denied });
  }
  if (row.rls === 'true') {
    throw new TableSyncError('PERMISSION_DENIED', `row-level security on ${rel} decides which rows role "${row.who}" may read: a sync would copy only those and never say so. Connect as a role that sees every row (the table's owner, unless it forces row security; a role WITH BYPASSRLS; a superuser). To sync a part of the table on purpose, put the condition in source.filter`, { schema, table, role: row.who, rowSecurity: true });
  }
}
