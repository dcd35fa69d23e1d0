/**
 * The SQL of an export: the SELECT of what is in view (table: visible columns, filter, quick
 * search, sort then key; console: the user's statement wrapped as a subquery), and the COPY that
 * turns it into CSV, JSON lines or INSERT statements on the server, so the engine only moves bytes.
 */
import type pg from 'pg';
import type { ExportFormat, ExportSource } from '../api/contract.export';
import { TableSyncError, toTableSyncError } from '../errors';
import { describeTable } from '../introspect/describe-table';
import { ensureFilterValid } from '../browse/filter-cache';
import { orderBySql, tiebreakerFor, type SortTerm } from '../browse/keyset';
import { filterSql } from '../source/source-sql';
import { withReadOnly } from '../source/read-only';
import { oneStatement } from '../console/statement';
import { qualifiedName, quoteIdent, quoteLiteral } from '../sql/ident';
import { searchSql } from './search-sql';

export interface ExportQuery {
  /** A SELECT whose columns are the exported ones, in order. */
  select: string;
  columns: string[];
  /** Default INSERT target (`public.orders`, or `query_result`). */
  insertInto: string;
  /** File name without extension. */
  baseName: string;
}

const ALIAS = 't';

/** Build (and check) the SELECT of an export. User SQL (filter, console statement) is validated first: one statement, read-only. */
export async function exportQuery(pool: pg.Pool, source: ExportSource): Promise<ExportQuery> {
  if (source.kind === 'table') {
    const rel = await describeTable(pool, source.schema, source.table);
    const byName = new Map(rel.columns.map((c) => [c.name, c]));
    const columns = source.columns ?? rel.columns.map((c) => c.name);
    for (const c of columns) if (!byName.has(c)) throw new TableSyncError('NOT_FOUND', `column "${c}" does not exist in ${qualifiedName(source.schema, source.table)}`, { column: c });
    const filter = source.filter?.trim() ? source.filter : undefined;
    if (filter) await ensureFilterValid(pool, source.schema, source.table, filter);
    const conds: string[] = [];
    if (filter) conds.push(filterSql(filter));
    const search = source.search?.trim() ? searchSql(columns.map((c) => `${ALIAS}.${quoteIdent(c)}`), source.search.trim()) : undefined;
    if (search) conds.push(search);
    // The grid's order exactly (keyset.ts): the sort list with NULLs placed explicitly, then the
    // tiebreaker in the first sort's direction.
    const sorts: SortTerm[] = [];
    for (const s of source.sort ?? []) {
      if (!byName.has(s.column)) throw new TableSyncError('NOT_FOUND', `cannot sort by "${s.column}": no such column`, { column: s.column });
      sorts.push({ expr: `${ALIAS}.${quoteIdent(s.column)}`, dir: s.dir ?? 'asc' });
    }
    const order = orderBySql({ sorts, keys: tiebreakerFor(rel.kind, rel.primaryKey, ALIAS).exprs, dir: sorts[0]?.dir ?? 'asc' });
    const select = `SELECT ${columns.map((c) => `${ALIAS}.${quoteIdent(c)}`).join(', ')} FROM ${qualifiedName(source.schema, source.table)} AS ${ALIAS}`
      + `${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''} ORDER BY ${order}`;
    return { select, columns, insertInto: qualifiedName(source.schema, source.table), baseName: source.table };
  }
  const sql = oneStatement(source.sql);
  // COPY runs over the simple protocol, which would take several statements: the wrapped statement
  // is first checked through the extended protocol (one statement only), read-only, as it will run.
  const select = `SELECT * FROM (\n${sql}\n) AS q`;
  const fields = await withReadOnly(pool, async (client) => {
    const r = await client.query({ text: `${select} LIMIT 0`, queryMode: 'extended' } as pg.QueryConfig);
    return r.fields.map((f) => f.name);
  }).catch((e: unknown) => {
    const err = toTableSyncError(e);
    if (/cannot insert multiple commands/.test(err.message)) throw new TableSyncError('INVALID_INPUT', 'an export runs one statement: select the one to export', err.detail);
    if (err.code === 'INTERNAL' && err.detail?.['sqlstate']) throw new TableSyncError('INVALID_INPUT', `cannot export this statement (only a SELECT, VALUES, TABLE or WITH … SELECT exports): ${err.message}`, err.detail);
    throw err;
  });
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f)) throw new TableSyncError('INVALID_INPUT', `the result has two columns named "${f}": give them different names (AS …) to export it`, { column: f });
    seen.add(f);
  }
  return { select, columns: fields, insertInto: quoteIdent(source.name ?? 'query_result'), baseName: source.name ?? 'query_result' };
}

/**
 * The COPY statement for a format. CSV is COPY's own (with a header line). JSON lines and INSERTs
 * are one text column per row, built by the server (row_to_json; quote_nullable per value), so
 * every value keeps its exact text; COPY's text escaping of that column is undone by the engine.
 */
export function copySql(q: ExportQuery, format: ExportFormat, insertInto?: string): { sql: string; unescape: boolean } {
  if (format === 'csv') return { sql: `COPY (${q.select}) TO STDOUT WITH (FORMAT csv, HEADER true)`, unescape: false };
  if (format === 'jsonl') return { sql: `COPY (SELECT row_to_json(x)::text FROM (${q.select}) AS x) TO STDOUT`, unescape: true };
  const target = insertInto ? insertTarget(insertInto) : q.insertInto;
  const cols = q.columns.map(quoteIdent).join(', ');
  const vals = q.columns.map((_, i) => `quote_nullable(x.c${i}::text)`).join(` || ', ' || `);
  const inner = `SELECT ${q.columns.map((c, i) => `y.${quoteIdent(c)} AS c${i}`).join(', ')} FROM (${q.select}) AS y`;
  const prefix = quoteLiteral(`INSERT INTO ${target} (${cols}) VALUES (`);
  return { sql: `COPY (SELECT ${prefix} || ${vals || "''"} || ');' FROM (${inner}) AS x) TO STDOUT`, unescape: true };
}

/** `schema.table` or `table` as given by the user for INSERTs: quoted part by part. */
function insertTarget(name: string): string {
  const parts = name.split('.');
  if (parts.length > 2 || parts.some((p) => p === '')) throw new TableSyncError('INVALID_INPUT', `"${name}" is not a table name for INSERT (schema.table or table)`);
  return parts.map(quoteIdent).join('.');
}
