/** A sync job: rows from somewhere (a flow's source table, or rows declared from code) into one target table. */
import type pg from 'pg';
import type { ColumnInfo } from '../api/model';
import type { ColumnOverride, Flow, SqlAttachmentSpec, VectorIndexSpec } from '../flow/schema';
import type { RowSource } from './row-source';

export interface TargetDef {
  schema: string;
  table: string;
  managedBy: 'system' | 'user';
  columns?: Record<string, ColumnOverride>;
  vectorIndexes?: VectorIndexSpec[];
  sqlAttachments?: SqlAttachmentSpec[];
}

export interface SyncJob {
  /** The flow's stable identity: state and tracking are keyed by it. */
  flowName: string;
  source: RowSource;
  target: TargetDef;
  /** Column nullability from code (declare.ts); flows: keys NOT NULL, values nullable. */
  nullable?: (c: ColumnInfo) => boolean;
  /** What the user asked for, hashed into the plan fingerprint. */
  spec: unknown;
}

/**
 * Everything target operations need for one flow. `targetClient`, when set, is a connection that
 * already holds the flow's advisory lock (see withFlowLock): target work then runs on it instead of
 * checking out another connection, which a one-connection server (PGlite) could never give.
 */
export interface FlowContext {
  flow: Flow;
  sourcePool: pg.Pool;
  targetPool: pg.Pool;
  sourceUrl: string;
  targetUrl: string;
  targetClient?: pg.PoolClient;
}
