/**
 * A selection of cells as text for the clipboard: TSV (what spreadsheets paste), CSV (RFC 4180),
 * JSON (an array of objects, values as PostgreSQL text or null) or INSERT statements. Values stay
 * PostgreSQL's text; NULL is empty in TSV/CSV, null in JSON, NULL in SQL.
 */
import type { Cell } from '../api/types';

export type CopyFormat = 'tsv' | 'csv' | 'json' | 'sql';

const tsvCell = (v: Cell) => (v === null ? '' : /[\t\n\r"]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const csvCell = (v: Cell) => (v === null ? '' : /[,\n\r"]/.test(v) || v === '' ? `"${v.replace(/"/g, '""')}"` : v);
const sqlIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
const sqlValue = (v: Cell) => (v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`);

/** `public.orders` → `"public"."orders"`. */
export function sqlTableName(schema: string | null, table: string): string {
  return schema ? `${sqlIdent(schema)}.${sqlIdent(table)}` : sqlIdent(table);
}

export function formatCells(format: CopyFormat, columns: string[], rows: Cell[][], opts: { table?: string; header?: boolean } = {}): string {
  if (format === 'json') return JSON.stringify(rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i] ?? null]))), null, 2);
  if (format === 'sql') {
    const table = opts.table ?? sqlIdent('query_result');
    const cols = columns.map(sqlIdent).join(', ');
    return rows.map((r) => `INSERT INTO ${table} (${cols}) VALUES (${r.map(sqlValue).join(', ')});`).join('\n');
  }
  const cell = format === 'tsv' ? tsvCell : csvCell;
  const sep = format === 'tsv' ? '\t' : ',';
  const lines = rows.map((r) => r.map(cell).join(sep));
  if (opts.header) lines.unshift(columns.map((c) => cell(c)).join(sep));
  return lines.join('\n');
}
