/**
 * The one door for identifiers in generated SQL. Every table, column, schema, index, trigger and
 * channel name goes through quoteIdent, never string concatenation, so `select`, `My Table`
 * and `naïve"quote` all work and none of them can inject SQL.
 */

/** Quote an identifier for PostgreSQL: `My "T"` → `"My ""T"""`. */
export function quoteIdent(name: string): string {
  if (name.length === 0) throw new Error('empty identifier');
  if (name.includes('\0')) throw new Error('identifier contains a NUL byte');
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * For people, not for SQL: an identifier as PostgreSQL would print it, quoted only when it has to be
 * (`public.items`, `public."My Table"`, `"select"` is left to quoteIdent since keywords are not known here).
 */
export function displayIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : quoteIdent(name);
}

/** `"schema"."table"` */
export function qualifiedName(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** Quote a string literal (for DDL contexts where parameters are not allowed, e.g. COMMENT, DEFAULT). */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('string literal contains a NUL byte');
  return `'${value.replace(/'/g, "''")}'`;
}

// Identifier lengths and fitting are shared with the renderer (core/api/names), so they live there once.
export { MAX_IDENTIFIER_BYTES, identifierByteLength, fitIdentifier } from '../api/names';

/**
 * A name of TableSync's own (a staging or tracking column) that no user column in the same relation
 * has: `base`, or `base_2`, `base_3`… when a user column is already called that. Any name is a valid
 * quoted identifier, so a fixed prefix alone (`__tablesync_…`) cannot rule out a collision; the
 * result depends only on `taken`, so the same columns always give the same name.
 * @example internalName('__tablesync_mark', ['id', '__tablesync_mark']) // '__tablesync_mark_2'
 */
export function internalName(base: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let n = 2; ; n++) if (!used.has(`${base}_${n}`)) return `${base}_${n}`;
}
