/** Shared mapping of a catalog row (see RELATION_SQL) to a TableInfo, including why it cannot be a source. */
import type { RelationKind, TableInfo } from '../api/model';

export interface RelationRow {
  oid: string;
  schema: string;
  name: string;
  relkind: string;
  reltuples: string;
  comment: string | null;
  owner_is_current_user: string | boolean;
  /** JSON array of the key's column names, in key order. */
  primary_key: string;
  /** Its inheritance children (INHERITS, not partitions), as regclass text, comma-separated; null when none. */
  inheritance_children: string | null;
}

const KINDS: Record<string, RelationKind> = {
  r: 'table', p: 'partitioned table', v: 'view', m: 'materialized view', f: 'foreign table',
};

export const NO_PRIMARY_KEY_MESSAGE = 'tables without a primary key are not supported';

/**
 * Why a relation cannot be a source, or undefined when it can. A table with inheritance children
 * (INHERITS, the pre-partitioning way): reading it reads their rows too, but a change in a child
 * fires no trigger of the parent's, and a replication stream carries it as the child's own, so the
 * target would drift (each child can be a source of its own).
 */
export function unusableReason(kind: RelationKind, primaryKey: readonly string[], inheritanceChildren?: string | null): string | undefined {
  if (kind === 'view') return `views cannot be sources (${NO_PRIMARY_KEY_MESSAGE})`;
  if (kind === 'materialized view') return `materialized views cannot be sources (${NO_PRIMARY_KEY_MESSAGE})`;
  if (kind === 'foreign table') return `foreign tables cannot be sources (${NO_PRIMARY_KEY_MESSAGE})`;
  if (primaryKey.length === 0) return NO_PRIMARY_KEY_MESSAGE;
  if (inheritanceChildren) return `it has inheritance children (INHERITS: ${inheritanceChildren}): reading it reads their rows too, but neither a trigger on it nor its replication stream carries their changes as its own, so the target would drift. Sync each of those tables as a source of its own (a set of the schema does), or make it a partitioned table`;
  return undefined;
}

export function relationFacts(row: RelationRow): TableInfo {
  const kind = KINDS[row.relkind] ?? 'table';
  const primaryKey = JSON.parse(row.primary_key) as string[];
  const tuples = Number(row.reltuples);
  const reason = unusableReason(kind, primaryKey, row.inheritance_children);
  return {
    schema: row.schema,
    name: row.name,
    kind,
    primaryKey,
    // reltuples is -1 until the first VACUUM/ANALYZE (PG 14+); views have 0 and no meaning
    estimatedRows: kind === 'view' || kind === 'foreign table' || !(tuples >= 0) ? null : Math.round(tuples),
    ...(reason ? { unusableAsSource: reason } : {}),
    comment: row.comment,
  };
}
