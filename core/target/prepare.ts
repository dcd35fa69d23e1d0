/**
 * The part of plan and apply that decides what must happen: desired columns and their types as the
 * target server sees them, DDL, vector index and attachment steps, blockers, and whether the row
 * tracking can be trusted. Reads only (type probes run under savepoints), so plan can run it.
 */
import type pg from 'pg';
import { createHash } from 'node:crypto';
import type { PlanStep } from '../api/model';
import { TableSyncError } from '../errors';
import { qualifiedName, quoteIdent } from '../sql/ident';
import {
  createTrackingSql, dropTrackingSql, flowsTableSql, readFlowState, stateSchemaSql, trackingMarkColumns, trackingPrimaryKeySql, trackingTableName,
  STATE_SCHEMA, type FlowSetupState, type FlowStateRow, type StateAttachment, type StateColumn, type StateVectorIndex,
} from '../state/store';
import { planAttachments } from './attachments';
import { readActualTable, relationExists, type ActualTable } from './catalog';
import { findRenames, planNullability, planTableDdl, renamedRelation, renamedTable, type ColumnRename } from './ddl-planner';
import type { SyncJob } from './job';
import { assertIdentifierFits, castExists, desiredColumns, overrideSuggestion, probeTypes, vectorKind, type TargetColumn } from './target-columns';
import { createVectorIndexSql, dropVectorIndexSql, vectorIndexName } from './vector-index';
import { copyInAndEncoding } from './copy-in';
import { filterDependenceWarning } from '../source/filter-dependence';
import { internalNames, type InternalNames } from './internal-names';

export interface Blocker {
  code: string;
  message: string;
  /** A column whose source values do not all fit its target type (cast-check.ts). */
  column?: string;
  failingRows?: number;
  sample?: { key: Record<string, string | null>; value: string };
}

export interface Prepared {
  job: SyncJob;
  columns: TargetColumn[];
  keyColumns: TargetColumn[];
  valueColumns: TargetColumn[];
  actual: ActualTable | undefined;
  state: FlowStateRow | undefined;
  /** Run before rows move: state schema, extension, teardowns, index drops, table DDL, tracking reset. */
  preSteps: PlanStep[];
  /** Run after rows moved: NOT NULL changes, index creation, attachment setup. */
  postSteps: PlanStep[];
  blockers: Blocker[];
  warnings: string[];
  freshTable: boolean;
  /** Tracking exists and describes rows of this table with this key. */
  trackingExists: boolean;
  /** Tracked ordinals/fingerprints are comparable with a fresh scan (same columns, types, mode). */
  comparable: boolean;
  newSetup: FlowSetupState;
  copyIn: boolean;
  targetEncoding: string;
  tableSql: string;
  trackingSql: string;
  /**
   * The table and the tracking table for reads BEFORE this apply's DDL ran (plan, scan, diff,
   * samples), under the column names they will have after it: a projection that renames, when the
   * flow renames columns (see ddl-planner's renamedRelation), else tableSql / trackingSql.
   */
  tableRead: string;
  trackingRead: string;
  /** Every column's staging type equals its target type: COPY can go straight into the table. */
  directLoad: boolean;
  /** Our own column names beside the key columns (scan, changed and tracking tables). */
  names: InternalNames;
  /** Ordinal mode with a nullable ordinal: rows without one are compared by fingerprint (see RowSource.nullableOrdinal). */
  nullableOrdinal: boolean;
  needsStateSchema: boolean;
}

const stateCols = (cols: TargetColumn[]): StateColumn[] => cols.map((c) => ({ name: c.name, sourceName: c.sourceName, type: c.type, nullable: c.nullable, keyPosition: c.keyPosition }));

export async function prepare(client: pg.ClientBase, job: SyncJob): Promise<Prepared> {
  const { target, source } = job;
  const blockers: Blocker[] = [];
  const warnings: string[] = [];
  assertIdentifierFits(target.schema, 'target.schema');
  assertIdentifierFits(target.table, 'target.table');
  const tableSql = qualifiedName(target.schema, target.table);
  // the state schema and pgvector, in one round trip
  const ext = await client.query(`SELECT to_regclass($1) IS NOT NULL AS state, (SELECT true FROM pg_available_extensions WHERE name = 'vector') AS available, (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS installed`, [flowsTableSql]);
  const extRow = ext.rows[0] as { state: string; available: string | null; installed: string | null };
  const needsStateSchema = extRow.state !== 't';
  const state = await readFlowState(client, job.flowName, !needsStateSchema);
  const columns = desiredColumns({
    keyColumns: source.keyColumns,
    valueColumns: source.valueColumns,
    ...(target.columns ? { overrides: target.columns } : {}),
    ...(job.nullable ? { nullable: job.nullable } : {}),
  });

  // pgvector
  const needVector = columns.some((c) => c.isVector || c.category === 'vector');
  const preSteps: PlanStep[] = [];
  const postSteps: PlanStep[] = [];
  if (needsStateSchema) {
    preSteps.push({ kind: 'create-schema', summary: `create the state schema "${STATE_SCHEMA}" (setup state and row tracking)`, sql: stateSchemaSql(), destructive: false, hazards: [] });
  }
  const vectorPending = needVector && !extRow.installed;
  if (needVector && !extRow.installed) {
    if (extRow.available !== 't') {
      throw new TableSyncError(
        'PGVECTOR_MISSING',
        `the target server has no pgvector extension, which ${columns.filter((c) => c.isVector || c.category === 'vector').map((c) => `column "${c.name}"`).join(', ')} needs. Install pgvector on the target server (e.g. apt install postgresql-NN-pgvector, or use an image with pgvector such as pgvector/pgvector), or override the column type (e.g. real[])`,
        { columns: columns.filter((c) => c.isVector).map((c) => c.name) },
      );
    }
    preSteps.push({ kind: 'create-extension', summary: 'create extension vector (pgvector)', sql: ['CREATE EXTENSION IF NOT EXISTS vector'], destructive: false, hazards: [] });
  }

  // Types as the target server knows them.
  const toProbe = new Set<string>();
  for (const c of columns) {
    if (!(vectorPending && c.isVector)) toProbe.add(c.type);
    if (!(vectorPending && vectorKind(c.sourceType))) toProbe.add(c.sourceType);
  }
  const probes = await probeTypes(client, toProbe);
  for (const c of columns) {
    const pt = probes.get(c.type);
    const ps = probes.get(c.sourceType);
    if (pt?.ok) c.type = pt.canonical!;
    else if (pt && !pt.ok) {
      if (c.overridden) blockers.push({ code: 'INVALID_INPUT', message: `target.columns."${c.sourceName}".type "${c.type}": ${pt.error}` });
      else {
        c.needsOverride = `type ${c.sourceType} does not exist in the target database`;
        blockers.push({ code: 'UNSUPPORTED', message: `column "${c.sourceName}" has type ${c.sourceType}${c.category === 'enum' || c.category === 'domain' ? ` (a source ${c.category})` : ''}, which does not exist in the target database: override it in target.columns."${c.sourceName}".type, e.g. ${overrideSuggestion(c)}` });
      }
    }
    c.stagingType = ps?.ok ? ps.canonical! : ps ? 'text' : c.sourceType;
    c.isVector = vectorKind(c.type) !== undefined;
  }

  const actualNow = await readActualTable(client, target.schema, target.table);
  /** The table as it will be after this flow's column renames (the same as actualNow when there are none). */
  let actual = actualNow;
  let renames: ColumnRename[] = [];
  if (actual && actual.kind !== 'r' && actual.kind !== 'p') {
    throw new TableSyncError('INCOMPATIBLE_TARGET', `target ${tableSql} is not a table`, { table: target.table });
  }
  let freshTable = false;
  let needsBackfill = false;
  if (target.managedBy === 'user') {
    if (!actual) throw new TableSyncError('INCOMPATIBLE_TARGET', `target table ${tableSql} does not exist; with managedBy "user" it must be created by you (or use managedBy "system")`, { table: target.table });
    const problems: string[] = [];
    for (const c of columns) {
      const a = actual.columns.find((x) => x.name === c.name);
      if (!a) {
        problems.push(`column "${c.name}" is missing`);
        continue;
      }
      c.type = a.type;
      c.isVector = vectorKind(a.type) !== undefined;
      const err = await castExists(client, c.stagingType, a.type);
      if (err) problems.push(`column "${c.name}" is ${a.type}, which ${c.sourceType} cannot be converted to (${err})`);
    }
    for (const a of actual.columns) {
      if (!columns.some((c) => c.name === a.name) && !a.nullable && !a.hasDefault) problems.push(`column "${a.name}" is NOT NULL without a default and the flow does not fill it`);
    }
    const keyNames = columns.filter((c) => c.keyPosition !== null).map((c) => c.name).sort();
    if (!actual.uniqueKeys.some((u) => u.length === keyNames.length && [...u].sort().every((n, i) => n === keyNames[i]))) {
      problems.push(`no primary key or unique index on (${keyNames.join(', ')}), the source's key`);
    }
    // Tracking compares keys exactly; a key column whose collation folds keys the source tells
    // apart ('abc' and 'ABC', case-insensitive) would meet a tracked key under another text, and
    // the flow could no longer say which rows it wrote: a changed key's old row would be taken for
    // yours and deleted. Refused, named, before anything is written.
    for (const c of columns) {
      const coll = c.keyPosition !== null ? actual.columns.find((x) => x.name === c.name)?.nondeterministicCollation : undefined;
      if (coll) blockers.push({ code: 'UNSUPPORTED', column: c.name, message: `target key column "${c.name}" of ${tableSql} has the nondeterministic collation ${quoteIdent(coll)}: keys the source tells apart (such as 'abc' and 'ABC' under a case-insensitive collation) are one key there, which TableSync cannot keep in sync; give the key column a deterministic collation (ALTER TABLE ${tableSql} ALTER COLUMN ${quoteIdent(c.name)} TYPE ${c.type} COLLATE "default")` });
    }
    if (problems.length) {
      throw new TableSyncError('INCOMPATIBLE_TARGET', `target table ${tableSql} (managedBy "user") does not fit the flow: ${problems.join('; ')}`, { table: target.table, problems });
    }
  } else {
    const createdByFlow = state?.setup.target.created && state.setup.target.schema === target.schema && state.setup.target.table === target.table;
    if (actual && !createdByFlow) {
      throw new TableSyncError('INCOMPATIBLE_TARGET', `target table ${tableSql} already exists and was not created by flow "${job.flowName}"; use managedBy "user" to sync into it, or choose another table`, { table: target.table });
    }
    if (actual && createdByFlow) {
      renames = findRenames(columns, actual, state.setup.columns);
      actual = renamedTable(actual, renames);
    }
    const castable = new Map<string, boolean>();
    if (actual) {
      for (const c of columns) {
        const a = actual.columns.find((x) => x.name === c.name);
        if (a && a.type !== c.type && !(vectorPending && c.isVector)) castable.set(`${a.type}\0${c.type}`, (await castExists(client, a.type, c.type)) === undefined);
      }
    }
    const schemaExists = (await client.query(`SELECT to_regnamespace($1) IS NOT NULL AS ok`, [quoteIdent(target.schema)])).rows[0].ok === 't';
    if (!schemaExists) {
      preSteps.push({ kind: 'create-schema', summary: `create schema ${quoteIdent(target.schema)}`, sql: [`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target.schema)}`], destructive: false, hazards: [] });
    }
    const prev = state?.setup.target.created ? { schema: state.setup.target.schema, table: state.setup.target.table } : undefined;
    const ddl = planTableDdl({ schema: target.schema, table: target.table, columns, actual, renames, ...(prev ? { previous: prev } : {}), castable: (f, t) => castable.get(`${f}\0${t}`) ?? true });
    preSteps.push(...ddl.steps);
    freshTable = ddl.freshTable;
    needsBackfill = ddl.needsBackfill;
    postSteps.push(...planNullability(target.schema, target.table, columns, actual, freshTable));
  }

  // Overridden types: the staged source value must cast into the target type.
  for (const c of columns) {
    if (c.stagingType === c.type || (vectorPending && (c.isVector || vectorKind(c.stagingType)))) continue;
    if (c.needsOverride || blockers.some((b) => b.message.includes(`"${c.sourceName}"`))) continue;
    const err = await castExists(client, c.stagingType, c.type);
    if (err) blockers.push({ code: 'UNSUPPORTED', message: `column "${c.sourceName}": the source's ${c.sourceType} cannot be cast to ${c.type} (${err}); choose another type in target.columns."${c.sourceName}".type` });
  }

  const keyColumns = columns.filter((c) => c.keyPosition !== null).sort((a, b) => a.keyPosition! - b.keyPosition!);
  // An existing key column with a nondeterministic collation (a user-managed table): see text-identity.ts.
  for (const k of keyColumns) if (actual?.columns.find((a) => a.name === k.name)?.nondeterministicCollation) k.nondeterministic = true;
  const valueColumns = columns.filter((c) => c.keyPosition === null);
  const mode = source.mode;
  const rowSpecOf = (name: (c: TargetColumn) => string) => createHash('sha256').update(JSON.stringify({ mode, ordinal: source.ordinalColumn ?? null, cols: columns.map((c) => [name(c), c.sourceName, c.type, c.stagingType]) })).digest('hex').slice(0, 16);
  const rowSpec = rowSpecOf((c) => c.name);
  // A rename changes no source value: tracking stays comparable across it (rowSpec as it read before the rename).
  const rowSpecBeforeRenames = renames.length ? rowSpecOf((c) => renames.find((r) => r.to === c.name)?.from ?? c.name) : rowSpec;
  const renamedKeys = renames.filter((r) => keyColumns.some((k) => k.name === r.to));

  // Tracking.
  const names = internalNames(keyColumns.map((k) => k.name));
  const trackingName = trackingTableName(job.flowName);
  const trackingSql = qualifiedName(STATE_SCHEMA, trackingName);
  // Tracked key columns under the names they will have once the key columns' renames ran.
  const trackedKey = state?.setup.tracking.keyColumns.map((k) => ({ ...k, name: renamedKeys.find((r) => r.from === k.name)?.to ?? k.name }));
  const ordinalType = source.mode === 'ordinal' ? source.ordinalType ?? 'text' : undefined;
  const sameTrackedKey = trackedKey !== undefined && trackedKey.length === keyColumns.length && trackedKey.every((k, i) => k.name === keyColumns[i]!.name && k.type === keyColumns[i]!.type);
  const trackedOrdinalType = state?.setup.tracking.ordinalType ?? 'text';
  const retypeOrdinal = ordinalType !== undefined && trackedOrdinalType !== ordinalType;
  const trackingTableExists = !needsStateSchema && (await relationExists(client, STATE_SCHEMA, trackingName));
  const sameTable = state?.setup.target.schema === target.schema && state?.setup.target.table === target.table;
  // A renamed key column is renamed in the tracking table too, unless our own tracking column names would change with it (then tracking restarts).
  const oldKeyNames = state?.setup.tracking.keyColumns.map((k) => k.name) ?? [];
  const followRenames = renamedKeys.length === 0 || JSON.stringify(trackingMarkColumns(oldKeyNames)) === JSON.stringify(trackingMarkColumns(keyColumns.map((k) => k.name)));
  const trackingExists = Boolean(state) && trackingTableExists && sameTrackedKey && sameTable && !freshTable && followRenames;
  const comparable = trackingExists && (state!.setup.rowSpec === rowSpec || state!.setup.rowSpec === rowSpecBeforeRenames) && state!.setup.tracking.mode === mode && !needsBackfill && !retypeOrdinal;
  const trackingMarks = trackingMarkColumns(keyColumns.map((k) => k.name));
  const trackingRead = trackingExists ? renamedRelation(trackingSql, [...oldKeyNames, trackingMarks.ordinal, trackingMarks.fingerprint], renamedKeys) : trackingSql;
  if (trackingExists) {
    for (const r of renamedKeys) {
      preSteps.push({ kind: 'state', summary: `rename key column ${quoteIdent(r.from)} to ${quoteIdent(r.to)} in the row tracking of flow "${job.flowName}"`, sql: [`ALTER TABLE ${trackingSql} RENAME COLUMN ${quoteIdent(r.from)} TO ${quoteIdent(r.to)}`], destructive: false, hazards: [] });
    }
  }
  if (trackingExists && !comparable) {
    warnings.push(`every row is re-checked this time (the flow's columns, types or change detection changed): "update" counts rows read again, and only those whose values differ are rewritten`);
  }
  if (trackingExists && retypeOrdinal) {
    // Keep the tracked keys (ownership); only the remembered ordinals are forgotten and re-read.
    preSteps.push({
      kind: 'state',
      summary: `track ordinals of flow "${job.flowName}" as ${ordinalType}`,
      sql: [`ALTER TABLE ${trackingSql} ALTER COLUMN ${quoteIdent(names.trackOrdinal)} TYPE ${ordinalType} USING NULL`],
      destructive: false,
      hazards: [],
    });
  }
  if (!trackingExists) {
    preSteps.push({
      kind: 'state',
      summary: trackingTableExists ? `restart row tracking of flow "${job.flowName}"` : `create row tracking for flow "${job.flowName}"`,
      sql: [dropTrackingSql(job.flowName), createTrackingSql(job.flowName, stateCols(keyColumns), ordinalType ?? 'text')],
      destructive: false,
      hazards: [],
    });
    postSteps.push({ kind: 'state', summary: `index row tracking of flow "${job.flowName}"`, sql: [trackingPrimaryKeySql(job.flowName, stateCols(keyColumns))], destructive: false, hazards: [] });
    if (actual && !freshTable && target.managedBy === 'user') warnings.push(`rows already in ${tableSql} are not tracked by this flow: those the source also has are conflicts (left alone unless you allow taking them over), the others are left alone`);
  }

  // Vector indexes.
  const desiredIdx: StateVectorIndex[] = [];
  for (const spec of target.vectorIndexes ?? []) {
    const col = columns.find((c) => c.name === spec.column);
    if (!col) {
      blockers.push({ code: 'INVALID_INPUT', message: `vector index "${spec.name ?? spec.column}": the target has no column "${spec.column}"` });
      continue;
    }
    try {
      desiredIdx.push({ name: spec.name ?? spec.column, indexName: vectorIndexName(target.table, spec), sql: createVectorIndexSql(target.schema, target.table, spec, col.type) });
    } catch (e) {
      blockers.push({ code: 'INVALID_INPUT', message: e instanceof Error ? e.message : String(e) });
    }
  }
  const prevIdx = sameTable ? state?.setup.vectorIndexes ?? [] : [];
  for (const old of prevIdx) {
    if (!desiredIdx.some((d) => d.indexName === old.indexName)) {
      preSteps.push({ kind: 'drop-index', summary: `drop vector index ${quoteIdent(old.indexName)}`, sql: [dropVectorIndexSql(target.schema, old.indexName)], destructive: false, hazards: [] });
    }
  }
  for (const d of desiredIdx) {
    const old = prevIdx.find((o) => o.indexName === d.indexName);
    const present = !freshTable && actual !== undefined && actual.indexes.includes(d.indexName);
    if (old && present && old.sql === d.sql) continue;
    if (present) {
      postSteps.push({ kind: 'recreate-index', summary: `recreate vector index ${quoteIdent(d.indexName)} (spec changed)`, sql: [dropVectorIndexSql(target.schema, d.indexName), d.sql], destructive: false, hazards: ['exclusive-lock'] });
    } else {
      postSteps.push({ kind: 'create-index', summary: `create vector index ${quoteIdent(d.indexName)}`, sql: [d.sql], destructive: false, hazards: [] });
    }
  }

  // Attachments.
  const desiredAtt: StateAttachment[] = (target.sqlAttachments ?? []).map((a) => ({ name: a.name, setupSql: a.setupSql, ...(a.teardownSql ? { teardownSql: a.teardownSql } : {}) }));
  const att = planAttachments(desiredAtt, sameTable ? state?.setup.attachments ?? [] : [], freshTable && Boolean(state));
  // Teardowns run first, while the table they refer to still exists.
  const firstDdl = preSteps.findIndex((s) => s.kind !== 'create-schema' && s.kind !== 'create-extension');
  preSteps.splice(firstDdl < 0 ? preSteps.length : firstDdl, 0, ...att.teardown);
  postSteps.push(...att.setup);

  const newSetup: FlowSetupState = {
    version: 1,
    target: { schema: target.schema, table: target.table, managedBy: target.managedBy, created: target.managedBy === 'system' },
    columns: stateCols(columns),
    vectorIndexes: desiredIdx,
    attachments: desiredAtt,
    tracking: { table: trackingName, mode, keyColumns: stateCols(keyColumns), ordinalType: ordinalType ?? (trackingExists ? trackedOrdinalType : 'text') },
    rowSpec,
  };
  if (source.filterDependsOn) warnings.push(filterDependenceWarning(source.filterDependsOn));
  const { copyIn, encoding: targetEncoding } = await copyInAndEncoding(client);
  return {
    job, columns, keyColumns, valueColumns, actual, state, preSteps, postSteps, blockers, warnings, freshTable,
    trackingExists, comparable, newSetup, copyIn, targetEncoding, tableSql, trackingSql,
    directLoad: columns.every((c) => c.stagingType === c.type),
    tableRead: actualNow ? renamedRelation(tableSql, actualNow.columns.map((c) => c.name), renames) : tableSql,
    trackingRead,
    needsStateSchema,
    names,
    nullableOrdinal: mode === 'ordinal' && source.nullableOrdinal === true,
  };
}
