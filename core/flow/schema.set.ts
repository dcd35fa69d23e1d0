/**
 * The set file: many flows declared together (DESIGN §2 "Set"). A set names one source connection
 * and schema, one target connection and schema, and its tables (a list, or "*" with include/exclude
 * patterns), with defaults for every member and per-table overrides. Each member becomes a flow
 * named `{set}.{table}` (core/set/expand.ts), so everything that holds for a flow holds for it.
 *
 * A set file and a flow file are told apart by the `"set"` key (see `isSetDocument`).
 * Part of the contract (shared with the renderer): zod only.
 */
import { z } from 'zod';
import { columnOverride, connectionRef, identifier, notificationSpec, sqlAttachmentSpec, vectorIndexSpec } from './schema';

/** A table-name pattern: `*` any run of characters, `?` one character; anything else literal. */
export const tablePattern = z.string().min(1, 'must not be empty');

/** What one table of the set may change: everything a flow accepts for its table. */
export const setMemberOverride = z.object({
  includedColumns: z.array(identifier).optional(),
  /** `null` turns a set-wide default ordinal column off for this table. */
  ordinalColumn: identifier.nullable().optional(),
  filter: z.string().trim().min(1).optional(),
  /** `null` turns live capture off for this table. */
  notification: notificationSpec.nullable().optional(),
  /** The target table's name (default: the source table's). */
  targetTable: identifier.optional(),
  managedBy: z.enum(['system', 'user']).optional(),
  columns: z.record(z.string(), columnOverride).optional(),
  vectorIndexes: z.array(vectorIndexSpec).optional(),
  sqlAttachments: z.array(sqlAttachmentSpec).optional(),
}).strict();
export type SetMemberOverride = z.infer<typeof setMemberOverride>;

export const setDefaults = z.object({
  /** Used wherever a table has this column and it qualifies (not a key column; integer or timestamp type). */
  ordinalColumn: identifier.optional(),
  /** Source type → target type, for every column of that type (`"mpaa_rating": "text"`); arrays of it follow. */
  typeOverrides: z.record(z.string().min(1), z.string().trim().min(1)).optional(),
  /** Live capture for every member (`{}`: each member's default channel). */
  notification: notificationSpec.optional(),
}).strict();
export type SetDefaults = z.infer<typeof setDefaults>;

export const setSpec = z.object({
  version: z.literal(1),
  /** The set's name: members are the flows `{set}.{table}`. */
  set: identifier.refine((s) => !s.includes('.'), 'must not contain "." (members are named {set}.{table})'),
  source: z.object({ connection: connectionRef, schema: identifier.default('public') }).strict(),
  target: z.object({ connection: connectionRef, schema: identifier.default('public'), managedBy: z.enum(['system', 'user']).default('system') }).strict(),
  tables: z.union([z.literal('*'), z.array(identifier).min(1, 'list at least one table, or use "*"')]),
  /** With `"tables": "*"`: only tables matching one of these. */
  include: z.array(tablePattern).optional(),
  /** Tables matching one of these are not members. */
  exclude: z.array(tablePattern).optional(),
  defaults: setDefaults.optional(),
  /** Copy the foreign keys among members to the target (system-managed members only). */
  foreignKeys: z.boolean().default(false),
  /** A table that cannot be a member (view, no key, partition of a member) fails the set instead of being listed. */
  strict: z.boolean().default(false),
  overrides: z.record(z.string(), setMemberOverride).optional(),
}).strict().superRefine((s, ctx) => {
  if (s.include && s.tables !== '*') ctx.addIssue({ code: 'custom', message: '`include` applies only with "tables": "*"', path: ['include'] });
  if (Array.isArray(s.tables)) {
    const seen = new Set<string>();
    s.tables.forEach((t, i) => {
      if (seen.has(t)) ctx.addIssue({ code: 'custom', message: `table "${t}" is listed twice`, path: ['tables', i] });
      seen.add(t);
    });
  }
});
export type SetSpec = z.infer<typeof setSpec>;
export type SetSpecInput = z.input<typeof setSpec>;

/** A parsed JSON document is a set file (not a flow file) when it has a `"set"` key. */
export function isSetDocument(doc: unknown): boolean {
  return typeof doc === 'object' && doc !== null && !Array.isArray(doc) && 'set' in doc;
}

/** The stable name of a member flow. */
export function memberFlowName(set: string, table: string): string {
  return `${set}.${table}`;
}

/** Does `name` match the pattern (`*`, `?` wildcards; case-sensitive, like PostgreSQL identifiers)? */
export function matchesPattern(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  return re.test(name);
}

/** What `typeOverrides` needs to know of a column (ColumnInfo has it). */
export interface TypedColumn {
  type: string;
  typeName: string;
  category: string;
  elementType?: string | undefined;
}

/** Does `key` (a typeOverrides key) name this column's type? Exact type, qualified or bare type name. */
function typeMatches(key: string, c: TypedColumn): boolean {
  if (key === c.type) return true;
  if (c.category === 'array') return false;
  const bare = c.typeName.includes('.') ? c.typeName.slice(c.typeName.indexOf('.') + 1) : c.typeName;
  return key === c.typeName || key === bare || key === bare.replace(/^"|"$/g, '');
}

/**
 * The target type a set's `defaults.typeOverrides` gives a column, following arrays of an
 * overridden element; undefined when none applies. The set's expansion applies it, and the app's
 * member editor shows it as the column's type unless the member overrides it.
 */
export function typeOverrideFor(overrides: Record<string, string>, c: TypedColumn): string | undefined {
  for (const [k, v] of Object.entries(overrides)) if (typeMatches(k, c)) return v;
  if (c.category === 'array' && c.elementType) {
    for (const [k, v] of Object.entries(overrides)) {
      if (k === c.elementType || k === c.typeName || k === c.typeName.slice(c.typeName.indexOf('.') + 1)) return `${v}[]`;
    }
  }
  return undefined;
}
