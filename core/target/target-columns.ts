/**
 * The target table's columns: the source's included columns with their exact types, then the flow's
 * per-column overrides (new name, new type). Types are checked against the TARGET server by asking
 * it to parse `NULL::type` (read-only, nothing created), which also gives the canonical spelling
 * (format_type) to compare with the table as it is.
 */
import type pg from 'pg';
import type { ColumnInfo } from '../api/model';
import type { ColumnOverride } from '../flow/schema';
import { TableSyncError } from '../errors';
import { identifierByteLength, MAX_IDENTIFIER_BYTES } from '../sql/ident';

/**
 * A name TableSync will create must fit PostgreSQL's 63 bytes: a longer one is cut short by the
 * server, so the table would get another name than the flow says and the next plan would not find
 * it (a column renamed to 64 bytes used to apply once and then plan drop + add forever). Refused.
 */
export function assertIdentifierFits(name: string, what: string): void {
  const bytes = identifierByteLength(name);
  if (bytes > MAX_IDENTIFIER_BYTES) {
    throw new TableSyncError('INVALID_INPUT', `${what}: the name "${name}" is ${bytes} bytes long; PostgreSQL names are at most ${MAX_IDENTIFIER_BYTES} bytes (longer ones are cut short), so choose a shorter name`, { name, bytes });
  }
}

export interface TargetColumn {
  name: string;
  sourceName: string;
  sourceType: string;
  /** The type as the flow asks for it (source type or override), canonical when the target resolved it. */
  type: string;
  /** Type of the staging column the source's COPY text is loaded into before the cast into `type`. */
  stagingType: string;
  nullable: boolean;
  keyPosition: number | null;
  overridden: boolean;
  isVector: boolean;
  category: ColumnInfo['category'];
  needsOverride?: string;
  /** The existing target column has a nondeterministic collation (equal text keys may differ in text: see text-identity.ts). */
  nondeterministic?: true;
}

/**
 * A type name as written by a person or by format_type. It is placed into DDL, so it is held to a
 * shape that cannot end a statement or open a comment: names, quoted names, digits, `( ) [ ] , .` and spaces.
 */
const TYPE_SHAPE = /^(?:"[^"\0;]+"|[\p{L}_][\p{L}\p{N}_$]*)(?:\s*\.\s*(?:"[^"\0;]+"|[\p{L}_][\p{L}\p{N}_$]*))?(?:[\p{L}\p{N}_\s,().[\]]*)$/u;

export function assertTypeShape(type: string, where: string): void {
  if (!TYPE_SHAPE.test(type) || type.includes('--') || type.includes('/*')) {
    throw new TableSyncError('INVALID_INPUT', `${where}: "${type}" is not a PostgreSQL type name`, { type });
  }
}

const VECTOR_TYPE = /^\s*(?:public\.)?(vector|halfvec|sparsevec)\s*(?:\(\s*\d+\s*\))?\s*$/i;

export function vectorKind(type: string): 'vector' | 'halfvec' | 'sparsevec' | undefined {
  const m = VECTOR_TYPE.exec(type);
  return m ? (m[1]!.toLowerCase() as 'vector' | 'halfvec' | 'sparsevec') : undefined;
}

export interface TypeProbe {
  ok: boolean;
  canonical?: string;
  error?: string;
}

/**
 * Ask the target server whether each type exists and how it spells it: all of them in one
 * `SELECT NULL::a, NULL::b … LIMIT 0` and one format_type read (two round trips, under a savepoint
 * so an unknown type does not abort the caller's transaction). When one is unknown, each is asked
 * on its own (`SELECT NULL::type` under a savepoint per type), so each gets its own verdict.
 */
export async function probeTypes(client: pg.ClientBase, types: Iterable<string>): Promise<Map<string, TypeProbe>> {
  const list = [...new Set(types)];
  const out = new Map<string, TypeProbe>();
  if (list.length === 0) return out;
  // (simple-query strings: the type names passed assertTypeShape, the OIDs and typmods are integers)
  const all = (await client.query(`SAVEPOINT tablesync_probe; SELECT ${list.map((t, i) => `NULL::${t} AS x${i}`).join(', ')} LIMIT 0`).then(
    (r) => (r as unknown as pg.QueryResult[])[1]!.fields,
    async () => {
      await client.query('ROLLBACK TO SAVEPOINT tablesync_probe; RELEASE SAVEPOINT tablesync_probe');
      return undefined;
    },
  ));
  if (all) {
    const fmt = await client.query(`RELEASE SAVEPOINT tablesync_probe; SELECT format_type(o, m) AS t FROM (VALUES ${all.map((f, i) => `(${i}, ${Number(f.dataTypeID)}::oid, ${Number(f.dataTypeModifier)})`).join(', ')}) v(i, o, m) ORDER BY i`);
    const rows = (fmt as unknown as pg.QueryResult[])[1]!.rows as { t: string }[];
    list.forEach((t, i) => out.set(t, { ok: true, canonical: rows[i]!.t }));
    return out;
  }
  for (const t of list) {
    await client.query('SAVEPOINT tablesync_probe');
    try {
      const r = await client.query(`SELECT NULL::${t} AS x LIMIT 0`);
      const f = r.fields[0]!;
      const fmt = await client.query('SELECT format_type($1::oid, $2::int) AS t', [f.dataTypeID, f.dataTypeModifier]);
      out.set(t, { ok: true, canonical: (fmt.rows[0] as { t: string }).t });
      await client.query('RELEASE SAVEPOINT tablesync_probe');
    } catch (e) {
      await client.query('ROLLBACK TO SAVEPOINT tablesync_probe');
      await client.query('RELEASE SAVEPOINT tablesync_probe');
      out.set(t, { ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}

/** Whether `from` can be cast to `to` on the target server (explicitly, as the merge does). */
export async function castExists(client: pg.ClientBase, from: string, to: string): Promise<string | undefined> {
  if (from === to) return undefined;
  await client.query('SAVEPOINT tablesync_cast');
  try {
    await client.query(`SELECT NULL::${from}::${to} AS x LIMIT 0`);
    await client.query('RELEASE SAVEPOINT tablesync_cast');
    return undefined;
  } catch (e) {
    await client.query('ROLLBACK TO SAVEPOINT tablesync_cast');
    await client.query('RELEASE SAVEPOINT tablesync_cast');
    return e instanceof Error ? e.message : String(e);
  }
}

export interface TargetColumnsInput {
  keyColumns: ColumnInfo[];
  valueColumns: ColumnInfo[];
  overrides?: Record<string, ColumnOverride>;
  /** Columns from code (declare.ts) say nullable themselves; flow columns: keys NOT NULL, values nullable. */
  nullable?: (c: ColumnInfo) => boolean;
}

/**
 * Desired columns before the target was asked about types. Throws INVALID_INPUT for an override of
 * an unknown column or a rename that collides.
 */
export function desiredColumns(input: TargetColumnsInput): TargetColumn[] {
  const all = [...input.keyColumns, ...input.valueColumns];
  const overrides = input.overrides ?? {};
  for (const name of Object.keys(overrides)) {
    if (!all.some((c) => c.name === name)) {
      throw new TableSyncError('INVALID_INPUT', `target.columns."${name}": the source has no included column "${name}"`, { column: name });
    }
  }
  const cols = all.map((c): TargetColumn => {
    const o = overrides[c.name];
    const type = o?.type ?? c.type;
    assertTypeShape(type, o?.type ? `target.columns."${c.name}".type` : `source column "${c.name}"`);
    const keyPosition = input.keyColumns.indexOf(c) >= 0 ? input.keyColumns.indexOf(c) + 1 : null;
    return {
      name: o?.name ?? c.name,
      sourceName: c.name,
      sourceType: c.type,
      type,
      stagingType: type,
      nullable: keyPosition === null && (input.nullable ? input.nullable(c) : true),
      keyPosition,
      overridden: Boolean(o?.type),
      isVector: vectorKind(type) !== undefined,
      category: c.category,
    };
  });
  for (const c of cols) assertIdentifierFits(c.name, overrides[c.sourceName]?.name !== undefined ? `target.columns."${c.sourceName}".name` : `column "${c.sourceName}"`);
  const seen = new Set<string>();
  for (const c of cols) {
    if (seen.has(c.name)) throw new TableSyncError('INVALID_INPUT', `target column "${c.name}" appears twice (check target.columns renames)`, { column: c.name });
    seen.add(c.name);
  }
  return cols;
}

/** A suggestion for a type the target does not have. */
export function overrideSuggestion(c: TargetColumn): string {
  if (c.category === 'enum') return 'text';
  if (c.category === 'domain') return 'its base type';
  if (c.category === 'array') return 'text[] or jsonb';
  return 'text';
}
