/**
 * Expanding a set into its member flows, from the source catalog as it is now: which tables are
 * members (the list, or "*" with include/exclude patterns), which are refused and why (views,
 * tables without a primary key, partitions whose parent is a member), and each member's flow with
 * the set's defaults applied (an ordinal column wherever it qualifies, type overrides by source
 * type) and its own overrides on top. Reads the catalog only.
 *
 * @example
 * const x = await expandSet(sourcePool, set);
 * x.members.map((m) => m.flow.name) // ['shop.customer', 'shop.film', …]
 * x.refused                         // [{ table: 'film_list', kind: 'view', reason: 'views cannot be sources …' }]
 */
import type pg from 'pg';
import type { TableDescription, TableInfo } from '../api/model';
import type { RefusedTable } from '../api/model.set';
import { RAW_TYPES } from '../connections/pool';
import { TableSyncError } from '../errors';
import { parseFlow } from '../flow/load';
import type { ColumnOverride, Flow } from '../flow/schema';
import { matchesPattern, memberFlowName, typeOverrideFor, type SetSpec } from '../flow/schema.set';
import { describeTable } from '../introspect/describe-table';
import { listTables } from '../introspect/list-tables';
import { ORDINAL_TYPE_OIDS } from '../source/resolve-source';
import { qualifiedName } from '../sql/ident';

export interface SetMember {
  /** Source table name. */
  table: string;
  flow: Flow;
  description: TableDescription;
  /** What the set's defaults did for this table, in words. */
  applied: string[];
}

/** A foreign key of the source among member tables (source names). */
export interface SourceForeignKey {
  name: string;
  table: string;
  columns: string[];
  references: string;
  referencedColumns: string[];
}

export interface ExpandedSet {
  set: SetSpec;
  members: SetMember[];
  refused: RefusedTable[];
  foreignKeys: SourceForeignKey[];
}

const PARTITIONS_SQL = `
SELECT c.relname AS child, p.relname AS parent
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid
  JOIN pg_class p ON p.oid = i.inhparent
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relispartition AND n.nspname = $1`;

// Inherited clones of a partitioned table's key (conparentid <> 0) are the parent's key again.
const FOREIGN_KEYS_SQL = `
SELECT con.conname AS name, c.relname AS "table", r.relname AS "references",
       (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum)::text AS columns,
       (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum)::text AS referenced_columns
  FROM pg_constraint con
  JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_class r ON r.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
 WHERE con.contype = 'f' AND con.conparentid = 0 AND n.nspname = $1 AND rn.nspname = $1
 ORDER BY c.relname, con.conname`;

/** Which tables the set names, before refusals: `"*"` filtered by include/exclude, or the list. */
function candidates(set: SetSpec, relations: Map<string, TableInfo>): { names: string[]; missing: string[] } {
  const excluded = (t: string) => (set.exclude ?? []).some((p) => matchesPattern(p, t));
  if (set.tables === '*') {
    const names = [...relations.keys()].filter((t) => (!set.include || set.include.some((p) => matchesPattern(p, t))) && !excluded(t));
    return { names, missing: [] };
  }
  const listed = set.tables.filter((t) => !excluded(t));
  return { names: listed.filter((t) => relations.has(t)), missing: listed.filter((t) => !relations.has(t)) };
}

function qualifiesAsOrdinal(d: TableDescription, name: string): { ok: true } | { ok: false; why: string } {
  const c = d.columns.find((x) => x.name === name);
  if (!c) return { ok: false, why: 'no such column' };
  if (c.keyPosition !== null) return { ok: false, why: 'it is a key column' };
  if (!ORDINAL_TYPE_OIDS.has(c.typeOid)) return { ok: false, why: `its type ${c.type} is not an integer or timestamp` };
  return { ok: true };
}

function memberFlow(set: SetSpec, d: TableDescription): { flow: Flow; applied: string[] } {
  const o = set.overrides?.[d.name] ?? {};
  const defaults = set.defaults ?? {};
  const applied: string[] = [];
  const included = o.includedColumns ? new Set(o.includedColumns) : undefined;

  let ordinalColumn: string | undefined;
  if (o.ordinalColumn !== undefined) ordinalColumn = o.ordinalColumn ?? undefined;
  else if (defaults.ordinalColumn) {
    const q = qualifiesAsOrdinal(d, defaults.ordinalColumn);
    if (q.ok) {
      ordinalColumn = defaults.ordinalColumn;
      applied.push(`ordinalColumn "${ordinalColumn}" (set default)`);
    } else if (q.why !== 'no such column') {
      applied.push(`no ordinalColumn: the default "${defaults.ordinalColumn}" does not qualify here (${q.why}); changes are found by fingerprint`);
    }
  }

  const columns: Record<string, ColumnOverride> = {};
  if (defaults.typeOverrides) {
    for (const c of d.columns) {
      if (c.keyPosition === null && included && !included.has(c.name)) continue;
      const type = typeOverrideFor(defaults.typeOverrides, c);
      if (type) {
        columns[c.name] = { type };
        applied.push(`column "${c.name}": ${c.type} → ${type} (set typeOverrides)`);
      }
    }
  }
  for (const [name, co] of Object.entries(o.columns ?? {})) columns[name] = { ...columns[name], ...co };

  const notification = o.notification === null ? undefined : o.notification ?? defaults.notification;
  const flow = parseFlow({
    version: 1,
    name: memberFlowName(set.set, d.name),
    source: {
      connection: set.source.connection,
      schema: set.source.schema,
      table: d.name,
      ...(o.includedColumns ? { includedColumns: o.includedColumns } : {}),
      ...(ordinalColumn ? { ordinalColumn } : {}),
      ...(o.filter ? { filter: o.filter } : {}),
      ...(notification ? { notification } : {}),
    },
    target: {
      connection: set.target.connection,
      schema: set.target.schema,
      table: o.targetTable ?? d.name,
      managedBy: o.managedBy ?? set.target.managedBy,
      ...(Object.keys(columns).length ? { columns } : {}),
      ...(o.vectorIndexes ? { vectorIndexes: o.vectorIndexes } : {}),
      ...(o.sqlAttachments ? { sqlAttachments: o.sqlAttachments } : {}),
    },
  }, `set "${set.set}" table "${d.name}"`);
  return { flow, applied };
}

/**
 * Expand `set` against the source catalog. Refused tables are listed with their reason; with
 * `strict` they fail the set (INVALID_INPUT, naming each). An override for a table the set does not
 * name, or two members with one target table, is INVALID_INPUT.
 */
export async function expandSet(sourcePool: pg.Pool, set: SetSpec): Promise<ExpandedSet> {
  const schema = set.source.schema;
  const list = await listTables(sourcePool, schema);
  const relations = new Map(list.map((t) => [t.name, t]));
  const parts = await sourcePool.query<{ child: string; parent: string }>({ text: PARTITIONS_SQL, values: [schema], types: RAW_TYPES });
  const parentOf = new Map(parts.rows.map((r) => [r.child, r.parent]));

  const { names, missing } = candidates(set, relations);
  const nameSet = new Set(names);
  const refused: RefusedTable[] = missing.map((t) => ({ table: t, reason: `no table ${qualifiedName(schema, t)} in the source` }));
  const memberNames: string[] = [];
  for (const t of names) {
    const info = relations.get(t)!;
    const why = info.unusableAsSource;
    if (why) {
      refused.push({ table: t, kind: info.kind, reason: why });
      continue;
    }
    memberNames.push(t);
  }
  // A partition whose parent (at any level) is also a member: its rows already arrive through the parent.
  const members = new Set(memberNames);
  const memberAncestor = (t: string): string | undefined => {
    for (let p = parentOf.get(t); p !== undefined; p = parentOf.get(p)) if (members.has(p)) return p;
    return undefined;
  };
  const finalNames = memberNames.filter((t) => {
    const p = memberAncestor(t);
    if (!p) return true;
    refused.push({ table: t, kind: relations.get(t)!.kind, reason: `partition of "${p}", which is a member: its rows are synced through the parent` });
    return false;
  });

  for (const t of Object.keys(set.overrides ?? {})) {
    if (!nameSet.has(t) && !missing.includes(t)) {
      throw new TableSyncError('INVALID_INPUT', `set "${set.set}": overrides."${t}" names a table that is not in the set (tables: ${set.tables === '*' ? '"*" after include/exclude' : 'the list'})`, { set: set.set, table: t, path: ['overrides', t] });
    }
  }
  if (set.strict && refused.length) {
    throw new TableSyncError('INVALID_INPUT', `set "${set.set}" is strict and these tables cannot be members: ${refused.map((r) => `"${r.table}" (${r.reason})`).join('; ')}`, { set: set.set, refused });
  }

  const out: SetMember[] = [];
  const byTarget = new Map<string, string>();
  for (const t of finalNames) {
    const description = await describeTable(sourcePool, schema, t);
    const { flow, applied } = memberFlow(set, description);
    const prev = byTarget.get(flow.target.table);
    if (prev) throw new TableSyncError('INVALID_INPUT', `set "${set.set}": tables "${prev}" and "${t}" would both sync into target table "${flow.target.table}"`, { set: set.set });
    byTarget.set(flow.target.table, t);
    out.push({ table: t, flow, description, applied });
  }

  const fks = await sourcePool.query<{ name: string; table: string; references: string; columns: string; referenced_columns: string }>({ text: FOREIGN_KEYS_SQL, values: [schema], types: RAW_TYPES });
  const finalSet = new Set(finalNames);
  const foreignKeys = fks.rows
    .filter((r) => finalSet.has(r.table) && finalSet.has(r.references))
    .map((r) => ({ name: r.name, table: r.table, references: r.references, columns: JSON.parse(r.columns) as string[], referencedColumns: JSON.parse(r.referenced_columns) as string[] }));
  refused.sort((a, b) => a.table.localeCompare(b.table));
  return { set, members: out, refused, foreignKeys };
}
