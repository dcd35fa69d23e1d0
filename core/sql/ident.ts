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

/** PostgreSQL truncates identifiers to NAMEDATALEN-1 = 63 bytes (UTF-8), not characters. */
export const MAX_IDENTIFIER_BYTES = 63;

export function identifierByteLength(name: string): number {
  return Buffer.byteLength(name, 'utf8');
}

/**
 * Shorten `name` to at most `maxBytes` UTF-8 bytes without splitting a character. When it had to
 * shorten, it appends a short stable hash of the full name so two long names that share a prefix
 * do not collide.
 */
export function fitIdentifier(name: string, maxBytes = MAX_IDENTIFIER_BYTES): string {
  if (identifierByteLength(name) <= maxBytes) return name;
  const suffix = `_${fnv1a32(name).toString(16).padStart(8, '0')}`;
  const budget = maxBytes - suffix.length;
  let out = '';
  for (const ch of name) {
    if (identifierByteLength(out + ch) > budget) break;
    out += ch;
  }
  return out + suffix;
}

function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
