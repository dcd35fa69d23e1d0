/** What the target table looks like right now, read from the catalog (the truth, whatever the state says). */
import type pg from 'pg';
import { qualifiedName } from '../sql/ident';

export interface ActualColumn {
  name: string;
  type: string;
  nullable: boolean;
  hasDefault: boolean;
  keyPosition: number | null;
  /** The column's collation, when it is not deterministic ('A' = 'a' under a case-insensitive one). */
  nondeterministicCollation?: string;
}

export interface ActualTable {
  schema: string;
  table: string;
  kind: string;
  columns: ActualColumn[];
  /** Primary-key column names in key order (empty when none). */
  primaryKey: string[];
  /** Column sets of plain unique indexes (PK included): ON CONFLICT needs one matching the key. */
  uniqueKeys: string[][];
  indexes: string[];
}

export async function readActualTable(client: pg.ClientBase, schema: string, table: string): Promise<ActualTable | undefined> {
  const rel = await client.query(`SELECT c.oid::text AS oid, c.relkind::text AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`, [schema, table]);
  const r = rel.rows[0] as { oid: string; kind: string } | undefined;
  if (!r) return undefined;
  const cols = await client.query(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
            (a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '') AS hasdef,
            (SELECT array_position(i.indkey::int2[], a.attnum) FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary) AS keypos,
            (SELECT co.collname FROM pg_collation co WHERE co.oid = a.attcollation AND NOT co.collisdeterministic) AS nondet
       FROM pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [r.oid],
  );
  const columns: ActualColumn[] = (cols.rows as { name: string; type: string; notnull: string; hasdef: string; keypos: string | null; nondet: string | null }[]).map((c) => ({
    name: c.name,
    type: c.type,
    nullable: c.notnull !== 't',
    hasDefault: c.hasdef === 't',
    keyPosition: c.keypos === null ? null : Number(c.keypos),
    ...(c.nondet !== null ? { nondeterministicCollation: c.nondet } : {}),
  }));
  const primaryKey = columns.filter((c) => c.keyPosition !== null).sort((a, b) => a.keyPosition! - b.keyPosition!).map((c) => c.name);
  const uq = await client.query(
    `SELECT (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])) AS cols
       FROM pg_index i WHERE i.indrelid = $1::oid AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indimmediate`,
    [r.oid],
  );
  const uniqueKeys = (uq.rows as { cols: string }[]).map((x) => parseTextArray(x.cols));
  const ix = await client.query(`SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::oid`, [r.oid]);
  return { schema, table, kind: r.kind, columns, primaryKey, uniqueKeys, indexes: (ix.rows as { name: string }[]).map((x) => x.name) };
}

/** Whether a relation (table, index) exists in a schema. */
export async function relationExists(client: pg.ClientBase, schema: string, name: string): Promise<boolean> {
  const { rows } = await client.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [qualifiedName(schema, name)]);
  return (rows[0] as { ok: string }).ok === 't';
}

/** Parse PostgreSQL's text form of a one-dimensional text[] (`{a,"b c"}`). */
export function parseTextArray(s: string): string[] {
  if (s === '{}') return [];
  const out: string[] = [];
  let i = 1;
  while (i < s.length - 1) {
    if (s[i] === '"') {
      let v = '';
      i++;
      while (s[i] !== '"') {
        if (s[i] === '\\') i++;
        v += s[i];
        i++;
      }
      out.push(v);
      i += 2;
    } else {
      const end = s.indexOf(',', i);
      const stop = end < 0 || end > s.length - 1 ? s.length - 1 : end;
      out.push(s.slice(i, stop));
      i = stop + 1;
    }
  }
  return out;
}
