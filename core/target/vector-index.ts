/**
 * pgvector indexes of a flow: named `{table}__vector__{name}` (name defaults to the column, fitted to
 * 63 bytes), one CREATE INDEX statement per spec. The statement is the spec's fingerprint: when it
 * changes the index is recreated, when the spec goes away the index is dropped.
 */
import type { VectorIndexSpec } from '../flow/schema';
import { qualifiedName, quoteIdent } from '../sql/ident';
import { vectorIndexName } from '../api/names';
import { TableSyncError } from '../errors';
import { vectorKind } from './target-columns';

const OPS = { cosine: 'cosine_ops', l2: 'l2_ops', ip: 'ip_ops' } as const;

export { vectorIndexName };

/** The CREATE INDEX statement for a spec on a column of the given type. */
export function createVectorIndexSql(schema: string, table: string, spec: VectorIndexSpec, columnType: string): string {
  const kind = vectorKind(columnType);
  if (!kind) {
    throw new TableSyncError('INVALID_INPUT', `vector index "${spec.name ?? spec.column}": column "${spec.column}" has type ${columnType}, not vector or halfvec`, { column: spec.column });
  }
  if (kind === 'sparsevec' && spec.method === 'ivfflat') {
    throw new TableSyncError('INVALID_INPUT', `vector index "${spec.name ?? spec.column}": ivfflat does not support sparsevec; use hnsw`, { column: spec.column });
  }
  const opclass = `${kind}_${OPS[spec.metric]}`;
  const withParts: string[] = [];
  if (spec.method === 'ivfflat' && spec.lists !== undefined) withParts.push(`lists = ${spec.lists}`);
  if (spec.method === 'hnsw' && spec.m !== undefined) withParts.push(`m = ${spec.m}`);
  if (spec.method === 'hnsw' && spec.efConstruction !== undefined) withParts.push(`ef_construction = ${spec.efConstruction}`);
  const name = vectorIndexName(table, spec);
  return `CREATE INDEX ${quoteIdent(name)} ON ${qualifiedName(schema, table)} USING ${spec.method} (${quoteIdent(spec.column)} ${opclass})${withParts.length ? ` WITH (${withParts.join(', ')})` : ''}`;
}

export function dropVectorIndexSql(schema: string, indexName: string): string {
  return `DROP INDEX IF EXISTS ${qualifiedName(schema, indexName)}`;
}
