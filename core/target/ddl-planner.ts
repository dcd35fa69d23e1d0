/**
 * DDL for a system-managed target table: the transitions from what exists (the catalog) to what the
 * flow describes. Each step carries the exact SQL apply will run and its hazards; destructive steps
 * (data goes away) say why and need the user's permission.
 */
import type { PlanStep } from '../api/model';
import { qualifiedName, quoteIdent } from '../sql/ident';
import type { ActualTable } from './catalog';
import type { TargetColumn } from './target-columns';

export interface DdlPlan {
  steps: PlanStep[];
  /** The table is created (or re-created) by this apply: it starts empty and tracking restarts. */
  freshTable: boolean;
  /** Some column's values are rewritten from the source (type change by drop+re-add): every row must be re-read. */
  needsBackfill: boolean;
}

export function columnDefSql(c: Pick<TargetColumn, 'name' | 'type' | 'nullable'>): string {
  return `${quoteIdent(c.name)} ${c.type}${c.nullable ? '' : ' NOT NULL'}`;
}

/** `primaryKey: false`: the same table without its key, for an initial load that builds the key once after the rows (initial-load.ts). */
export function createTableSql(schema: string, table: string, cols: TargetColumn[], opts: { primaryKey?: boolean } = {}): string {
  const keys = cols.filter((c) => c.keyPosition !== null).sort((a, b) => a.keyPosition! - b.keyPosition!);
  const lines = cols.map((c) => `  ${columnDefSql(c)}`);
  if (opts.primaryKey !== false) lines.push(`  PRIMARY KEY (${keys.map((k) => quoteIdent(k.name)).join(', ')})`);
  return `CREATE TABLE ${qualifiedName(schema, table)} (\n${lines.join(',\n')}\n)`;
}

function sameKey(actual: ActualTable, cols: TargetColumn[]): boolean {
  const want = cols.filter((c) => c.keyPosition !== null).sort((a, b) => a.keyPosition! - b.keyPosition!);
  if (want.length !== actual.primaryKey.length) return false;
  return want.every((w, i) => {
    const a = actual.columns.find((c) => c.name === actual.primaryKey[i]);
    return a !== undefined && a.name === w.name && a.type === w.type;
  });
}

/** A column whose target name changed: `from` (as it is in the table) → `to` (as the flow says now). */
export interface ColumnRename {
  from: string;
  to: string;
}

/**
 * Which existing columns are renamed, not replaced: a desired column missing from the table whose
 * source column was created under another name that is still in the table and wanted by no other
 * column. The previous names come from the flow's state (`sourceName` of each column); state from
 * before renames were recorded falls back on the source name (a column renamed away from the
 * default). A swap of two names is not a rename (it stays drop + add, flagged destructive).
 */
export function findRenames(columns: TargetColumn[], actual: ActualTable, previous: { name: string; sourceName?: string }[]): ColumnRename[] {
  const recorded = previous.some((c) => c.sourceName !== undefined);
  const wanted = new Set(columns.map((c) => c.name));
  const has = (n: string) => actual.columns.some((a) => a.name === n);
  const out: ColumnRename[] = [];
  for (const c of columns) {
    if (has(c.name)) continue;
    const from = recorded ? previous.find((s) => s.sourceName === c.sourceName)?.name : c.sourceName;
    if (from === undefined || from === c.name || wanted.has(from) || !has(from) || out.some((r) => r.from === from)) continue;
    out.push({ from, to: c.name });
  }
  return out;
}

/** The table as it will be after the renames (names only): what the rest of the planning compares with. */
export function renamedTable(actual: ActualTable, renames: ColumnRename[]): ActualTable {
  if (renames.length === 0) return actual;
  const to = (n: string) => renames.find((r) => r.from === n)?.to ?? n;
  return {
    ...actual,
    columns: actual.columns.map((a) => ({ ...a, name: to(a.name) })),
    primaryKey: actual.primaryKey.map(to),
    uniqueKeys: actual.uniqueKeys.map((u) => u.map(to)),
  };
}

/** Read the table (or tracking table) under its post-rename names, before the renames ran (plan, diff): a projection the planner flattens. */
export function renamedRelation(relSql: string, columnNames: string[], renames: ColumnRename[]): string {
  if (renames.length === 0) return relSql;
  const cols = columnNames.map((n) => {
    const r = renames.find((x) => x.from === n);
    return r ? `${quoteIdent(r.from)} AS ${quoteIdent(r.to)}` : quoteIdent(n);
  });
  return `(SELECT ${cols.join(', ')} FROM ${relSql})`;
}

/**
 * Plan the table DDL. `castable(from, to)` says whether `USING col::to` works for a type change;
 * `previous` is the table the flow created before when it moved (other schema or name). `actual`
 * is the table as it will be after `renames` (renamedTable), which come first: a rename keeps the
 * data and rewrites nothing, and a type change of a renamed column then alters it under its new name.
 */
export function planTableDdl(opts: {
  schema: string;
  table: string;
  columns: TargetColumn[];
  actual: ActualTable | undefined;
  previous?: { schema: string; table: string };
  renames?: ColumnRename[];
  castable: (from: string, to: string) => boolean;
}): DdlPlan {
  const { schema, table, columns, actual } = opts;
  const t = qualifiedName(schema, table);
  const steps: PlanStep[] = [];
  if (opts.previous && (opts.previous.schema !== schema || opts.previous.table !== table)) {
    steps.push({
      kind: 'drop-table',
      summary: `drop table ${qualifiedName(opts.previous.schema, opts.previous.table)} (the flow now targets ${t})`,
      sql: [`DROP TABLE IF EXISTS ${qualifiedName(opts.previous.schema, opts.previous.table)}`],
      destructive: true,
      reason: 'the table this flow created before is dropped with all its rows',
      hazards: ['deletes-data', 'exclusive-lock'],
    });
  }
  if (!actual) {
    steps.push({ kind: 'create-table', summary: `create table ${t}`, sql: [createTableSql(schema, table, columns)], destructive: false, hazards: [] });
    return { steps, freshTable: true, needsBackfill: false };
  }
  if (!sameKey(actual, columns)) {
    steps.push({
      kind: 'recreate-table',
      summary: `recreate table ${t}: primary key changes from (${actual.primaryKey.join(', ')}) to (${columns.filter((c) => c.keyPosition !== null).map((c) => c.name).join(', ')})`,
      sql: [`DROP TABLE ${t}`, createTableSql(schema, table, columns)],
      destructive: true,
      reason: 'the key changes, so the table is dropped and reloaded from the source; rows the flow does not own are lost',
      hazards: ['deletes-data', 'rewrites-table', 'exclusive-lock'],
    });
    return { steps, freshTable: true, needsBackfill: false };
  }
  for (const r of opts.renames ?? []) {
    steps.push({
      kind: 'rename-column',
      summary: `rename column ${quoteIdent(r.from)} to ${quoteIdent(r.to)}`,
      sql: [`ALTER TABLE ${t} RENAME COLUMN ${quoteIdent(r.from)} TO ${quoteIdent(r.to)}`],
      destructive: false,
      hazards: ['exclusive-lock'],
    });
  }
  let needsBackfill = false;
  for (const a of actual.columns) {
    if (!columns.some((c) => c.name === a.name)) {
      steps.push({
        kind: 'drop-column',
        summary: `drop column ${quoteIdent(a.name)} from ${t}`,
        sql: [`ALTER TABLE ${t} DROP COLUMN ${quoteIdent(a.name)}`],
        destructive: true,
        reason: `column "${a.name}" is no longer in the flow; its values are deleted`,
        hazards: ['deletes-data', 'exclusive-lock'],
      });
    }
  }
  for (const c of columns) {
    const a = actual.columns.find((x) => x.name === c.name);
    if (!a) {
      steps.push({ kind: 'add-column', summary: `add column ${quoteIdent(c.name)} ${c.type}`, sql: [`ALTER TABLE ${t} ADD COLUMN ${columnDefSql({ ...c, nullable: true })}`], destructive: false, hazards: ['exclusive-lock'] });
      needsBackfill = true;
      continue;
    }
    if (a.type !== c.type) {
      if (opts.castable(a.type, c.type)) {
        steps.push({
          kind: 'alter-column-type',
          summary: `change column ${quoteIdent(c.name)} from ${a.type} to ${c.type}`,
          sql: [`ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(c.name)} TYPE ${c.type} USING ${quoteIdent(c.name)}::${c.type}`],
          destructive: false,
          hazards: ['rewrites-table', 'exclusive-lock'],
        });
      } else {
        steps.push({
          kind: 'alter-column-type',
          summary: `replace column ${quoteIdent(c.name)} ${a.type} by ${c.type} (no cast exists: drop, re-add, refill from the source)`,
          sql: [`ALTER TABLE ${t} DROP COLUMN ${quoteIdent(c.name)}`, `ALTER TABLE ${t} ADD COLUMN ${columnDefSql({ ...c, nullable: true })}`],
          destructive: true,
          reason: `no cast from ${a.type} to ${c.type}: the column is dropped and refilled from the source; values in rows the flow does not own are lost`,
          hazards: ['deletes-data', 'rewrites-table', 'exclusive-lock'],
        });
        needsBackfill = true;
      }
    }
  }
  return { steps, freshTable: false, needsBackfill };
}

/** NOT NULL changes run after the rows are in (an added NOT NULL column is filled first). */
export function planNullability(schema: string, table: string, columns: TargetColumn[], actual: ActualTable | undefined, fresh: boolean): PlanStep[] {
  const t = qualifiedName(schema, table);
  const steps: PlanStep[] = [];
  for (const c of columns) {
    if (c.keyPosition !== null) continue;
    const a = fresh ? undefined : actual?.columns.find((x) => x.name === c.name);
    const wasNullable = a ? a.nullable : true;
    if (fresh && !a) continue; // created with the right nullability
    if (wasNullable && !c.nullable) {
      steps.push({ kind: 'add-column', summary: `set ${quoteIdent(c.name)} NOT NULL`, sql: [`ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(c.name)} SET NOT NULL`], destructive: false, hazards: ['exclusive-lock'] });
    } else if (!wasNullable && c.nullable) {
      steps.push({ kind: 'add-column', summary: `drop NOT NULL on ${quoteIdent(c.name)}`, sql: [`ALTER TABLE ${t} ALTER COLUMN ${quoteIdent(c.name)} DROP NOT NULL`], destructive: false, hazards: ['exclusive-lock'] });
    }
  }
  return steps;
}
