/**
 * Foreign keys among a set's members, copied to the target when the set asks (`"foreignKeys": true`).
 *
 * Every copied constraint is DEFERRABLE INITIALLY DEFERRED: rows of all members move in one
 * transaction in whatever order, and a cycle (a film that points at its sequel, two tables that
 * point at each other) is just another constraint, checked at COMMIT. New constraints are added
 * after every member's rows are loaded, so their one validation scan sees the finished data; kept
 * constraints check only the rows that change. Referential actions (ON DELETE CASCADE…) are not
 * copied: the source already applied them, and the target receives their result as row changes.
 *
 * Ownership: a constraint is ours when its comment carries the set's marker; one of the same name
 * without it is left alone (and reported).
 */
import type pg from 'pg';
import { createHash } from 'node:crypto';
import type { PlanStep } from '../api/model';
import type { SetForeignKey } from '../api/model.set';
import { qualifiedName, quoteIdent, quoteLiteral } from '../sql/ident';
import type { ExpandedSet, SetMember } from './expand';

export interface ForeignKeyDef extends SetForeignKey {
  /** Hash of what the constraint is, recorded in its comment: a different hash means recreate. */
  hash: string;
  addSql: string[];
}

export interface ExistingForeignKey {
  name: string;
  table: string;
  hash: string;
}

const marker = (set: string) => `tablesync set ${JSON.stringify(set)} foreign key`;

/** The name a source column gets in the member's target table, or undefined when it is not synced. */
function targetColumn(m: SetMember, source: string): string | undefined {
  const c = m.description.columns.find((x) => x.name === source);
  if (!c) return undefined;
  const included = c.keyPosition !== null || !m.flow.source.includedColumns || m.flow.source.includedColumns.includes(source);
  if (!included) return undefined;
  return m.flow.target.columns?.[source]?.name ?? source;
}

/** The foreign keys the target should have (with SQL), and those that cannot be copied (with why). */
export function desiredForeignKeys(x: ExpandedSet): ForeignKeyDef[] {
  if (!x.set.foreignKeys) return [];
  const byTable = new Map(x.members.map((m) => [m.table, m]));
  const schema = x.set.target.schema;
  return x.foreignKeys.map((fk) => {
    const child = byTable.get(fk.table)!;
    const parent = byTable.get(fk.references)!;
    const cols = fk.columns.map((c) => targetColumn(child, c));
    const refs = fk.referencedColumns.map((c) => targetColumn(parent, c));
    const base = { name: fk.name, table: child.flow.target.table, references: parent.flow.target.table, columns: cols.map((c, i) => c ?? fk.columns[i]!), referencedColumns: refs.map((c, i) => c ?? fk.referencedColumns[i]!) };
    let skipped: string | undefined;
    const user = [child, parent].find((m) => m.flow.target.managedBy === 'user');
    const pk = parent.description.primaryKey;
    if (user) skipped = `member "${user.table}" is user-managed: TableSync runs no DDL on its table`;
    else if (cols.some((c) => c === undefined)) skipped = `column ${fk.columns.filter((_, i) => cols[i] === undefined).map((c) => `"${c}"`).join(', ')} of "${fk.table}" is not synced`;
    else if (fk.referencedColumns.length !== pk.length || !fk.referencedColumns.every((c) => pk.includes(c))) {
      skipped = `it references (${fk.referencedColumns.join(', ')}) of "${fk.references}", which is not its primary key; the target table has only the primary key as a unique key`;
    }
    const table = qualifiedName(schema, base.table);
    const def = `FOREIGN KEY (${base.columns.map(quoteIdent).join(', ')}) REFERENCES ${qualifiedName(schema, base.references)} (${base.referencedColumns.map(quoteIdent).join(', ')}) DEFERRABLE INITIALLY DEFERRED`;
    const hash = createHash('sha256').update(`${base.table}\0${def}`).digest('hex').slice(0, 16);
    return {
      ...base,
      ...(skipped ? { skipped } : {}),
      hash,
      addSql: [
        `ALTER TABLE ${table} ADD CONSTRAINT ${quoteIdent(fk.name)} ${def}`,
        `COMMENT ON CONSTRAINT ${quoteIdent(fk.name)} ON ${table} IS ${quoteLiteral(`${marker(x.set.set)} ${hash}`)}`,
      ],
    };
  });
}

/** Our constraints (by marker) on tables of the target schema, and foreign constraints with names we want. */
export async function existingForeignKeys(client: pg.ClientBase, set: string, schema: string): Promise<{ ours: ExistingForeignKey[]; others: { name: string; table: string }[] }> {
  const { rows } = await client.query<{ name: string; table: string; comment: string | null }>(
    `SELECT con.conname AS name, c.relname AS "table", obj_description(con.oid, 'pg_constraint') AS comment
       FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE con.contype = 'f' AND n.nspname = $1`,
    [schema],
  );
  const prefix = `${marker(set)} `;
  const ours: ExistingForeignKey[] = [];
  const others: { name: string; table: string }[] = [];
  for (const r of rows) {
    if (r.comment?.startsWith(prefix)) ours.push({ name: r.name, table: r.table, hash: r.comment.slice(prefix.length) });
    else others.push({ name: r.name, table: r.table });
  }
  return { ours, others };
}

export function dropForeignKeyStep(schema: string, fk: { name: string; table: string }, why: string): PlanStep {
  return {
    kind: 'state',
    summary: `drop foreign key ${quoteIdent(fk.name)} on ${quoteIdent(fk.table)} (${why})`,
    sql: [`ALTER TABLE ${qualifiedName(schema, fk.table)} DROP CONSTRAINT IF EXISTS ${quoteIdent(fk.name)}`],
    destructive: false,
    hazards: [],
  };
}

export function addForeignKeyStep(fk: ForeignKeyDef): PlanStep {
  return {
    kind: 'state',
    summary: `add foreign key ${quoteIdent(fk.name)}: ${quoteIdent(fk.table)} (${fk.columns.join(', ')}) → ${quoteIdent(fk.references)} (${fk.referencedColumns.join(', ')}), checked at commit`,
    sql: fk.addSql,
    destructive: false,
    hazards: ['exclusive-lock'],
  };
}

/** Plan kinds that change a member's table in ways a foreign key on it would block or not survive. */
export const TABLE_CHANGING_STEPS = new Set(['recreate-table', 'drop-table', 'drop-column', 'alter-column-type']);

/**
 * What to do with foreign keys around the members' own steps: which of ours to drop first (not
 * wanted any more, changed, or on a table whose DDL they would block), and which to add after.
 */
export function foreignKeySteps(opts: {
  schema: string;
  desired: ForeignKeyDef[];
  existing: { ours: ExistingForeignKey[]; others: { name: string; table: string }[] };
  /** Target tables of members whose own steps change their table (see TABLE_CHANGING_STEPS), or that leave the set. */
  changing: Set<string>;
}): { before: PlanStep[]; after: PlanStep[]; warnings: string[] } {
  const before: PlanStep[] = [];
  const after: PlanStep[] = [];
  const warnings: string[] = [];
  const wanted = opts.desired.filter((d) => !d.skipped);
  const dropped = new Set<string>();
  for (const e of opts.existing.ours) {
    const d = wanted.find((w) => w.name === e.name && w.table === e.table);
    const touches = (t: string) => opts.changing.has(t);
    const why = !d ? 'no longer among the set\'s foreign keys' : d.hash !== e.hash ? 'its definition changed' : touches(d.table) || touches(d.references) ? 'a table it joins changes' : undefined;
    if (why) {
      before.push(dropForeignKeyStep(opts.schema, e, why));
      dropped.add(`${e.table}\0${e.name}`);
    }
  }
  for (const d of wanted) {
    const have = opts.existing.ours.some((e) => e.name === d.name && e.table === d.table) && !dropped.has(`${d.table}\0${d.name}`);
    if (have) continue;
    if (opts.existing.others.some((o) => o.name === d.name && o.table === d.table)) {
      warnings.push(`foreign key "${d.name}" on "${d.table}" is not added: the target table already has a constraint of that name that TableSync did not create`);
      continue;
    }
    after.push(addForeignKeyStep(d));
  }
  for (const d of opts.desired) if (d.skipped) warnings.push(`foreign key "${d.name}" of "${d.table}" is not copied: ${d.skipped}`);
  return { before, after, warnings };
}
