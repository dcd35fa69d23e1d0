/**
 * plan: what apply would do now, computed without writing anything anywhere. On the target it runs
 * in one transaction that is rolled back: the scan's temporary tables are created first (CREATE is
 * refused in a read-only transaction, even for temporary tables), then the transaction turns READ
 * ONLY (allowed mid-transaction in that direction), and everything else, the COPY of the source's
 * key scan into the temporary table included, runs read-only. The source side runs READ ONLY too.
 */
import type pg from 'pg';
import { createHash } from 'node:crypto';
import type { InitialLoadChoice, Plan, PlanStep, RowCounts } from '../api/model';
import { toTableSyncError } from '../errors';
import { prepare, type Prepared } from './prepare';
import { castRisks, checkCasts, createCastObjects } from './cast-check';
import { countWithoutOrdinal, createScanTables, diffDigest, diffRows, loadScan, sampleRows, tuneSession, tuneTransaction } from './rows';
import type { SyncJob } from './job';
import { planInitialLoad, type InitialLoadOptions, type InitialLoadPlan } from './initial-load';

/** What a plan needs to say how an initial load would run: what apply would be given. */
export type PlanLoadOptions = Pick<InitialLoadOptions, 'streams' | 'openTargetPool'>;

/** The load planner's choice in the API's words. */
function loadChoice(initial: InitialLoadPlan, requested: number | undefined): InitialLoadChoice {
  return { streams: initial.streams, ...(requested !== undefined ? { requested } : {}), format: initial.binaryRows ? 'binary' : 'text', estimatedRows: initial.estimatedRows };
}

/** How the initial load would run (the same call apply makes), or undefined when the apply would not be one. */
async function initialLoadChoice(client: pg.ClientBase, p: Prepared, load: PlanLoadOptions): Promise<InitialLoadChoice | undefined> {
  const initial = await planInitialLoad(client, p, load);
  return initial && loadChoice(initial, load.streams);
}

export function planFingerprint(p: Prepared, rows: RowCounts, digest: string): string {
  const steps = [...p.preSteps, ...p.postSteps].map((s) => [s.kind, s.sql]);
  return createHash('sha256')
    .update(JSON.stringify({ spec: p.job.spec, steps, blockers: p.blockers, rows: [rows.insert, rows.update, rows.delete, rows.unchanged], digest }))
    .digest('hex');
}

export function canScan(p: Prepared): boolean {
  return p.keyColumns.every((k) => !k.needsOverride) && !p.blockers.some((b) => b.code === 'INVALID_INPUT' && p.keyColumns.some((k) => b.message.includes(`"${k.sourceName}"`)));
}

export function buildPlan(p: Prepared, rows: RowCounts, fingerprint: string, samples: Plan['samples'], withoutOrdinal?: number, initialLoad?: InitialLoadChoice): Plan {
  const steps: PlanStep[] = [...p.preSteps, ...p.postSteps];
  const src = p.job.source;
  return {
    flow: p.job.flowName,
    fingerprint,
    computedAt: new Date().toISOString(),
    source: { schema: src.schema, table: src.table, ...(src.filter ? { filter: src.filter } : {}), ...(src.ordinalColumn ? { ordinalColumn: src.ordinalColumn } : {}) },
    target: { schema: p.job.target.schema, table: p.job.target.table, managedBy: p.job.target.managedBy, exists: p.actual !== undefined },
    columns: p.columns.map((c) => ({ name: c.name, sourceName: c.sourceName, type: c.type, nullable: c.nullable, keyPosition: c.keyPosition, ...(c.needsOverride ? { needsOverride: c.needsOverride } : {}) })),
    steps,
    rows,
    rowMode: src.mode,
    ...(withoutOrdinal !== undefined ? { withoutOrdinal } : {}),
    samples,
    blockers: p.blockers,
    warnings: p.warnings,
    ...(initialLoad ? { initialLoad } : {}),
  };
}

/**
 * Compute the plan of a job on a target connection (which this leaves as it found it). `load`: what
 * apply would be given for an initial load (streams asked for, the pool factory, never called
 * here), so the plan says how the load would run.
 */
export async function planOn(client: pg.ClientBase, job: SyncJob, load: PlanLoadOptions = {}): Promise<Plan> {
  await tuneSession(client);
  await client.query('BEGIN');
  try {
    await tuneTransaction(client);
    const p = await prepare(client, job);
    let rows: RowCounts = { insert: 0, update: 0, delete: 0, unchanged: 0, foreign: 0 };
    let digest = 'not-scanned';
    let samples: Plan['samples'] = [];
    let withoutOrdinal: number | undefined;
    const risks = await castRisks(client, p);
    await createCastObjects(client, risks);
    if (canScan(p)) await createScanTables(client, p);
    await client.query('SET TRANSACTION READ ONLY');
    // Values that will not fit their target type block the plan, named by column (cast-check.ts).
    const castBlockers = await checkCasts(client, p, risks);
    p.blockers.push(...castBlockers);
    // A key that does not fit its type cannot be compared with the tracked keys: no row diff then.
    const keyMisfit = castBlockers.some((b) => p.keyColumns.some((k) => k.sourceName === b.column));
    if (canScan(p) && !keyMisfit) {
      // No "nothing changed?" summary here (apply has it): people ask for a plan when they expect
      // changes, and then the summary is only extra work before the scan that shows them.
      const scanned = await loadScan(client, p);
      withoutOrdinal = await countWithoutOrdinal(client, p);
      rows = await diffRows(client, p, scanned);
      digest = await diffDigest(client, p, rows);
      samples = await sampleRows(client, p, rows);
    }
    const initialLoad = await initialLoadChoice(client, p, load);
    return buildPlan(p, rows, planFingerprint(p, rows, digest), samples, withoutOrdinal, initialLoad);
  } catch (e) {
    throw toTableSyncError(e, `plan of flow "${job.flowName}"`);
  } finally {
    await client.query('ROLLBACK').catch(() => {});
  }
}

/**
 * How the next apply's initial load would run, without planning the rows (catalog reads only, in
 * a READ ONLY transaction that is rolled back): the flow editor's "automatic: N streams for ~X
 * rows". Undefined when that apply would not be an initial load (the table exists, a user-managed
 * target, a target without COPY FROM STDIN).
 */
export async function initialLoadOn(client: pg.ClientBase, job: SyncJob, load: PlanLoadOptions = {}): Promise<InitialLoadChoice | undefined> {
  await tuneSession(client);
  await client.query('BEGIN READ ONLY');
  try {
    await tuneTransaction(client);
    const p = await prepare(client, job);
    return await initialLoadChoice(client, p, load);
  } catch (e) {
    throw toTableSyncError(e, `initial load of flow "${job.flowName}"`);
  } finally {
    await client.query('ROLLBACK').catch(() => {});
  }
}
