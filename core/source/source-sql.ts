/**
 * SQL builders of the source side. Every query that reads a source goes through these, so the
 * user's filter always sits in the same place: `WHERE (` newline, filter, newline `)`. The newlines
 * keep a trailing `--` comment in the filter from swallowing the closing parenthesis, and
 * validateFilter checks the filter in exactly this wrapping, so a filter that passes validation
 * cannot close more parentheses than it opens here (see filter.ts).
 */
import type { ColumnInfo } from '../api/model';
import { qualifiedName, quoteIdent } from '../sql/ident';
import { TEXT_SETTINGS_SQL } from '../sql/text-settings';
import type { ResolvedSource } from './resolve-source';

/** `"k1", "k2", "v1", …`: key columns (PK order) then value columns (table order). */
export function selectListSql(resolved: Pick<ResolvedSource, 'keyColumns' | 'valueColumns'>): string {
  return [...resolved.keyColumns, ...resolved.valueColumns].map((c) => quoteIdent(c.name)).join(', ');
}

export function keyListSql(resolved: Pick<ResolvedSource, 'keyColumns'>): string {
  return resolved.keyColumns.map((c) => quoteIdent(c.name)).join(', ');
}

/** The filter as a parenthesised boolean, in the one wrapping validation checked. */
export function filterSql(filter: string): string {
  return `(\n${filter}\n)`;
}

/** `FROM "schema"."table"` plus `WHERE (filter)` when there is one, and extra conditions. */
export function fromWhereSql(resolved: Pick<ResolvedSource, 'schema' | 'table' | 'filter'>, extra: string[] = []): string {
  const conds = [...extra, ...(resolved.filter ? [filterSql(resolved.filter)] : [])];
  return `FROM ${qualifiedName(resolved.schema, resolved.table)}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''}`;
}

/** `SELECT keys, values FROM t WHERE (filter)`: the rows of the source. */
export function selectRowsSql(resolved: ResolvedSource): string {
  return `SELECT ${selectListSql(resolved)} ${fromWhereSql(resolved)}`;
}

/**
 * Types whose default hash function distinguishes exactly what their text output distinguishes.
 * Others are hashed by their text: numeric (1.0 and 1.00 hash alike), interval ('1 day' = '24
 * hours'), jsonb (numbers compared by value), float (-0 = 0), enums (hashed by OID: a renamed label
 * would not show), citext and other extension types (case-insensitive or no hash function at all),
 * json, xml, point (no hash function), arrays and composites (element hashes inherit the above).
 */
const EXACT_HASH_TYPES = new Set([
  16 /* bool */, 17 /* bytea */, 18 /* char */, 19 /* name */, 20 /* int8 */, 21 /* int2 */, 23 /* int4 */,
  25 /* text */, 26 /* oid */, 1043 /* varchar */, 1082 /* date */, 1114 /* timestamp */, 1184 /* timestamptz */,
  2950 /* uuid */,
]);

/** Per-column term inside the fingerprint's ROW(...). */
export function fingerprintTermSql(col: ColumnInfo): string {
  const ident = quoteIdent(col.name);
  return EXACT_HASH_TYPES.has(col.typeOid) ? ident : `${ident}::text`;
}

/**
 * int8 fingerprint of the value columns, computed by the server: `hash_record_extended` (PG 14+)
 * over a row of typed or text terms. Field order matters and a NULL field hashes unlike any value
 * (hash_record_extended mixes a 0 for NULL into a position-dependent combination, while the hash
 * of '' is not 0), which test/integration/source-fingerprint.test.ts pins.
 */
export function fingerprintSql(valueColumns: readonly ColumnInfo[]): string {
  if (valueColumns.length === 0) return '0::int8';
  return `hash_record_extended(ROW(${valueColumns.map(fingerprintTermSql).join(', ')}), 0)`;
}

/**
 * Session settings for every source read: the one rule in core/sql/text-settings.ts, shared with
 * target transactions, so text output (and fingerprints over it) does not depend on whoever
 * configured the server or the role.
 */
export const SOURCE_SETTINGS_SQL = TEXT_SETTINGS_SQL;
