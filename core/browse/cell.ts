/**
 * One whole cell, by primary key: what the cell viewer asks for when browse.rows cut a long value.
 */
import type pg from 'pg';
import type { Cell } from '../api/model';
import { TableSyncError } from '../errors';
import { describeTable } from '../introspect/describe-table';
import { withReadOnly } from '../source/read-only';
import { qualifiedName, quoteIdent } from '../sql/ident';
import type { QueryHooks } from './rows';

export async function readCell(pool: pg.Pool, req: { schema: string; table: string; column: string; key: Cell[] }, hooks: QueryHooks = {}): Promise<{ value: Cell }> {
  const rel = await describeTable(pool, req.schema, req.table);
  const name = qualifiedName(req.schema, req.table);
  if (!rel.columns.some((c) => c.name === req.column)) throw new TableSyncError('NOT_FOUND', `column "${req.column}" does not exist in ${name}`, { column: req.column });
  if (rel.primaryKey.length === 0) throw new TableSyncError('UNSUPPORTED', `${name} has no primary key, so a single cell cannot be addressed`);
  if (req.key.length !== rel.primaryKey.length || req.key.some((v) => v === null)) {
    throw new TableSyncError('INVALID_INPUT', `the key of ${name} has ${rel.primaryKey.length} non-null values (${rel.primaryKey.map(quoteIdent).join(', ')})`);
  }
  const where = rel.primaryKey.map((k, i) => `${quoteIdent(k)} = $${i + 1}`).join(' AND ');
  const sql = `SELECT ${quoteIdent(req.column)} FROM ${name} WHERE ${where}`;
  return withReadOnly(pool, async (client) => {
    hooks.onBackend?.(client);
    hooks.onQuery?.(sql, req.key);
    const res = await client.query({ text: sql, values: req.key, rowMode: 'array' });
    const row = res.rows[0] as Cell[] | undefined;
    if (!row) throw new TableSyncError('NOT_FOUND', `no row with that key in ${name} (it may have been deleted)`);
    return { value: row[0] ?? null };
  });
}
