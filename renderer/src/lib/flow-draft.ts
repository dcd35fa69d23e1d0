/**
 * Pure helpers of the flow setup screen: the default flow for a source table, which columns may be
 * the ordinal (the engine's rule, core/api/names), type suggestions for overrides, and the mapping
 * between the form's shape (rows per column) and the flow file's shape (maps and optional fields).
 */
import type { ColumnInfo, FlowInput, ReplicationSpec, SavedConnection, TableDescription } from '../api/types';
import { captureNames, isOrdinalEligible, vectorIndexName, type CaptureNames } from '../../../core/api/names';

/** Columns the engine accepts as `ordinalColumn`: non-key, integer-like or timestamp (DESIGN §3). */
export function ordinalCandidates(columns: ColumnInfo[]): ColumnInfo[] {
  return columns.filter(isOrdinalEligible);
}

function baseType(t: string): string {
  return t.replace(/\(\d+\)/, '').trim();
}

/**
 * The capture objects watch will create for this form: the channel (given, or the default fitted to
 * 63 bytes exactly as the engine fits it) and its `_n` function, `_t` and `_r` triggers.
 */
export function formCaptureNames(v: Pick<FlowForm, 'name' | 'sourceTable' | 'channelName'>): CaptureNames {
  return captureNames(v.name.trim() || 'flow', v.sourceTable, v.channelName.trim() || undefined);
}

/** The name of a vector index row's index, as apply creates it (`{table}__vector__{name}`). */
export function formVectorIndexName(v: Pick<FlowForm, 'targetTable'>, row: Pick<VectorIndexRow, 'name' | 'column'>): string {
  return vectorIndexName(v.targetTable.trim(), { column: row.column, ...(row.name.trim() ? { name: row.name.trim() } : {}) });
}

/** Override types worth offering for a column, the source's own first. */
export function typeSuggestions(c: ColumnInfo): string[] {
  const out = [c.type];
  const add = (...t: string[]) => { for (const x of t) if (!out.includes(x)) out.push(x); };
  if (c.vector) add(`vector(${c.vector.dimensions ?? 384})`, `halfvec(${c.vector.dimensions ?? 384})`);
  if (c.category === 'enum' || c.category === 'domain') add('text', c.domainBaseType ?? 'text');
  if (c.category === 'array' && c.elementType) add('jsonb', `${c.elementType}[]`);
  if (c.category === 'json') add('jsonb', 'json', 'text');
  const t = baseType(c.type);
  if (['smallint', 'integer', 'bigint'].includes(t)) add('bigint', 'numeric', 'text');
  if (t === 'numeric' || t.startsWith('numeric')) add('numeric', 'numeric(12,2)', 'double precision', 'text');
  if (t.startsWith('character')) add('text', 'varchar(255)');
  if (t === 'text') add('varchar(255)', 'citext');
  if (t.startsWith('timestamp')) add('timestamptz', 'timestamp', 'date', 'text');
  if (t === 'real' || t === 'double precision') add('double precision', 'numeric', 'real');
  if (t === 'double precision[]' || t === 'real[]') add('vector(384)', 'halfvec(384)');
  add('text', 'jsonb', 'vector(384)');
  return out;
}

export function isVectorType(t: string): boolean {
  return /^(vector|halfvec|sparsevec)(\(\d+\))?$/.test(t.trim());
}
export function vectorDims(t: string): number | null {
  const m = /^(?:vector|halfvec|sparsevec)\((\d+)\)$/.exec(t.trim());
  return m ? Number(m[1]) : null;
}

/** How a flow refers to a saved connection: by name when it is unique (readable flow files), else by id. */
export function savedRef(c: SavedConnection, all: SavedConnection[]): { saved: string } {
  const unique = all.filter((x) => x.name === c.name).length === 1;
  return { saved: unique ? c.name : c.id };
}
export function connectionOfRef(ref: FlowInput['source']['connection'], all: SavedConnection[]): SavedConnection | undefined {
  if (!('saved' in ref)) return undefined;
  return all.find((c) => c.id === ref.saved) ?? all.find((c) => c.name === ref.saved);
}

// ---------------------------------------------------------------- the form's shape

export interface ColumnRow {
  source: string;
  type: string;
  key: boolean;
  included: boolean;
  targetName: string;
  targetType: string;
  /** For vector types: dimensions to put in the override type. */
  dims: string;
}
export interface VectorIndexRow { name: string; column: string; metric: 'cosine' | 'l2' | 'ip'; method: 'ivfflat' | 'hnsw'; lists: string; m: string; efConstruction: string }
export interface AttachmentRow { name: string; setupSql: string; teardownSql: string }

export interface FlowForm {
  name: string;
  sourceConnection: string;
  sourceSchema: string;
  sourceTable: string;
  columns: ColumnRow[];
  ordinalColumn: string;
  filter: string;
  notify: boolean;
  channelName: string;
  /** source.notification.acceptPrepareFailures: no prepared transaction writes the table (a source that allows them refuses trigger capture otherwise). */
  acceptPrepareFailures: boolean;
  /**
   * Logical-replication capture (`source.replication`), kept as the flow file has it: the form
   * does not edit it, and a flow that has it saves it back (instead of `notification`).
   */
  replication: ReplicationSpec | null;
  targetConnection: string;
  targetSchema: string;
  targetTable: string;
  managedBy: 'system' | 'user';
  vectorIndexes: VectorIndexRow[];
  attachments: AttachmentRow[];
  /**
   * The initial load's parallel streams (flow `load.streams`): "auto" leaves it to the engine (by
   * the table's size); "fixed" saves `loadStreams` (validated by the flow schema: 1..MAX_LOAD_STREAMS).
   */
  loadMode: 'auto' | 'fixed';
  loadStreams: string;
}

export function formFromTable(d: TableDescription, source: SavedConnection, target: SavedConnection | undefined, all: SavedConnection[], filter: string | null = null): FlowForm {
  return {
    name: `${d.name}_sync`,
    sourceConnection: savedRef(source, all).saved,
    sourceSchema: d.schema,
    sourceTable: d.name,
    columns: d.columns.map((c) => ({
      source: c.name,
      type: c.type,
      key: c.keyPosition !== null,
      included: true,
      targetName: '',
      targetType: '',
      dims: c.vector?.dimensions ? String(c.vector.dimensions) : '',
    })),
    ordinalColumn: '',
    filter: filter ?? '',
    notify: true,
    channelName: '',
    acceptPrepareFailures: false,
    replication: null,
    targetConnection: target ? savedRef(target, all).saved : savedRef(source, all).saved,
    targetSchema: 'public',
    targetTable: d.name,
    managedBy: 'system',
    vectorIndexes: [],
    attachments: [],
    loadMode: 'auto',
    loadStreams: '',
  };
}

/**
 * The form after loading a saved flow, given the source table's columns. A `{ saved }` reference
 * becomes the value the connection pickers use (see `savedRef`), so a flow that names its
 * connection by id (the demo's) shows it selected instead of a blank picker.
 */
export function formFromFlow(f: FlowInput, d: TableDescription | null, all: SavedConnection[] = []): FlowForm {
  const asOption = (ref: FlowInput['source']['connection']): string => {
    if (!('saved' in ref)) return '';
    const c = connectionOfRef(ref, all);
    return c ? savedRef(c, all).saved : ref.saved;
  };
  const included = f.source.includedColumns;
  const overrides = f.target.columns ?? {};
  const cols: ColumnInfo[] = d?.columns ?? [];
  return {
    name: f.name,
    sourceConnection: asOption(f.source.connection),
    sourceSchema: f.source.schema ?? 'public',
    sourceTable: f.source.table,
    columns: cols.map((c) => {
      const o = overrides[c.name];
      const t = o?.type ?? '';
      return {
        source: c.name,
        type: c.type,
        key: c.keyPosition !== null,
        included: c.keyPosition !== null || !included || included.includes(c.name),
        targetName: o?.name ?? '',
        targetType: t,
        dims: String(vectorDims(t) ?? c.vector?.dimensions ?? ''),
      };
    }),
    ordinalColumn: f.source.ordinalColumn ?? '',
    filter: f.source.filter ?? '',
    notify: !!f.source.notification,
    channelName: f.source.notification?.channelName ?? '',
    acceptPrepareFailures: f.source.notification?.acceptPrepareFailures === true,
    replication: f.source.replication ?? null,
    targetConnection: asOption(f.target.connection),
    targetSchema: f.target.schema ?? 'public',
    targetTable: f.target.table,
    managedBy: f.target.managedBy ?? 'system',
    vectorIndexes: vectorIndexRows(f.target.vectorIndexes),
    attachments: attachmentRows(f.target.sqlAttachments),
    loadMode: f.load?.streams !== undefined ? 'fixed' : 'auto',
    loadStreams: f.load?.streams !== undefined ? String(f.load.streams) : '',
  };
}

type VectorIndexSpecs = NonNullable<FlowInput['target']['vectorIndexes']>;
type AttachmentSpecs = NonNullable<FlowInput['target']['sqlAttachments']>;

/** A flow file's (or a set member override's) vector indexes as the form's rows. */
export function vectorIndexRows(list: VectorIndexSpecs | undefined): VectorIndexRow[] {
  return (list ?? []).map((v) => ({
    name: v.name ?? '',
    column: v.column,
    metric: v.metric ?? 'cosine',
    method: v.method ?? 'ivfflat',
    lists: v.lists !== undefined ? String(v.lists) : '',
    m: v.m !== undefined ? String(v.m) : '',
    efConstruction: v.efConstruction !== undefined ? String(v.efConstruction) : '',
  }));
}

/** A flow file's (or a set member override's) SQL attachments as the form's rows. */
export function attachmentRows(list: AttachmentSpecs | undefined): AttachmentRow[] {
  return (list ?? []).map((a) => ({ name: a.name, setupSql: a.setupSql, teardownSql: a.teardownSql ?? '' }));
}

const num = (s: string) => (s.trim() === '' ? undefined : Number(s));

/** The flow file the form describes (before zod validation, which the caller runs). */
export function flowFromForm(v: FlowForm): FlowInput {
  const allIncluded = v.columns.every((c) => c.included || c.key);
  const overrides: Record<string, { name?: string; type?: string }> = {};
  for (const c of v.columns) {
    if (!c.included && !c.key) continue;
    let type = c.targetType.trim();
    if (type && isVectorType(type) && c.dims.trim() && vectorDims(type) !== Number(c.dims)) type = `${type.replace(/\(\d+\)$/, '')}(${c.dims.trim()})`;
    const o: { name?: string; type?: string } = {};
    if (c.targetName.trim() && c.targetName.trim() !== c.source) o.name = c.targetName.trim();
    if (type && type !== c.type) o.type = type;
    if (o.name || o.type) overrides[c.source] = o;
  }
  const flow: FlowInput = {
    version: 1,
    name: v.name.trim(),
    source: {
      connection: { saved: v.sourceConnection },
      schema: v.sourceSchema,
      table: v.sourceTable,
      ...(allIncluded ? {} : { includedColumns: v.columns.filter((c) => c.included && !c.key).map((c) => c.source) }),
      ...(v.ordinalColumn ? { ordinalColumn: v.ordinalColumn } : {}),
      ...(v.filter.trim() ? { filter: v.filter.trim() } : {}),
      ...(v.replication
        ? { replication: v.replication }
        : v.notify ? { notification: { ...(v.channelName.trim() ? { channelName: v.channelName.trim() } : {}), ...(v.acceptPrepareFailures ? { acceptPrepareFailures: true } : {}) } } : {}),
    },
    target: {
      connection: { saved: v.targetConnection },
      schema: v.targetSchema.trim() || 'public',
      table: v.targetTable.trim(),
      managedBy: v.managedBy,
      ...(Object.keys(overrides).length ? { columns: overrides } : {}),
      ...(v.vectorIndexes.length
        ? {
            vectorIndexes: v.vectorIndexes.map((x) => ({
              ...(x.name.trim() ? { name: x.name.trim() } : {}),
              column: x.column,
              metric: x.metric,
              method: x.method,
              ...(x.method === 'ivfflat' && num(x.lists) !== undefined ? { lists: num(x.lists) } : {}),
              ...(x.method === 'hnsw' && num(x.m) !== undefined ? { m: num(x.m) } : {}),
              ...(x.method === 'hnsw' && num(x.efConstruction) !== undefined ? { efConstruction: num(x.efConstruction) } : {}),
            })),
          }
        : {}),
      ...(v.attachments.length
        ? { sqlAttachments: v.attachments.map((a) => ({ name: a.name.trim(), setupSql: a.setupSql, ...(a.teardownSql.trim() ? { teardownSql: a.teardownSql } : {}) })) }
        : {}),
    },
    // "fixed" with a blank or non-number field gives NaN, which the flow schema refuses (the form says so).
    ...(v.loadMode === 'fixed' ? { load: { streams: v.loadStreams.trim() === '' ? Number.NaN : Number(v.loadStreams) } } : {}),
  };
  return flow;
}

/** Target column names the form will produce (for vector index choices). */
export function targetColumns(v: FlowForm): Array<{ name: string; type: string }> {
  return v.columns
    .filter((c) => c.included || c.key)
    .map((c) => {
      let type = c.targetType.trim() || c.type;
      if (isVectorType(type) && c.dims.trim()) type = `${type.replace(/\(\d+\)$/, '')}(${c.dims.trim()})`;
      return { name: c.targetName.trim() || c.source, type };
    });
}
