/**
 * drop: remove everything a flow created: attachments (teardown), vector indexes, the table when
 * system-managed, row tracking and the state row, in one target transaction; and before that, the
 * parts other modules own (the source's capture trigger and function), which the caller passes in.
 * They are built in one place, `dropPartsFor(flow)` (core/app/drop-parts.ts), so no drop can
 * depend on which module happened to be imported.
 *
 * @example
 * await dropFlow(ctx, dropPartsFor(ctx.flow), { allowDestructive: true });
 * // a part of one's own:
 * const part: DropPart = async (ctx, state) => ({
 *   steps: [{ kind: 'drop-trigger', summary: 'drop trigger …', sql: ['DROP TRIGGER …'], destructive: false, hazards: [] }],
 *   run: async () => { await ctx.sourcePool.query('DROP TRIGGER …'); },
 * });
 *
 * Parts are asked for their steps first (also for a dry run); their `run` is called before the
 * target transaction, so nothing notifies a flow that is going away.
 */
import type pg from 'pg';
import type { PlanStep } from '../api/model';
import { pgErrorFields, TableSyncError, toTableSyncError } from '../errors';
import { destructiveRefusalDetail } from '../api/errors.destructive';
import { qualifiedName } from '../sql/ident';
import { deleteFlowState, dropTrackingSql, flowsTableSql, readFlowState, type FlowStateRow } from '../state/store';
import type { FlowContext } from './job';
import { dropVectorIndexSql } from './vector-index';

export interface DropContribution {
  steps: PlanStep[];
  run: () => Promise<void>;
}

/** Clean-up beyond the target that a drop performs: steps to show, and what to run. */
export type DropPart = (ctx: FlowContext, state: FlowStateRow | undefined) => Promise<DropContribution | undefined>;

/**
 * The target's steps of a drop. Dropping the table is destructive when it holds rows (`holdsRows`):
 * like a destructive apply, that runs only when allowed (`--allow-destructive`, or the app's dialog).
 */
export function targetDropSteps(flowName: string, state: FlowStateRow | undefined, holdsRows = true, cascade = false): PlanStep[] {
  if (!state) return [];
  const s = state.setup;
  const steps: PlanStep[] = [];
  for (const a of s.attachments) {
    if (a.teardownSql) steps.push({ kind: 'attachment-teardown', summary: `tear down attachment "${a.name}"`, sql: [a.teardownSql], destructive: false, hazards: ['runs-user-sql'] });
  }
  for (const i of s.vectorIndexes) {
    steps.push({ kind: 'drop-index', summary: `drop vector index "${i.indexName}"`, sql: [dropVectorIndexSql(s.target.schema, i.indexName)], destructive: false, hazards: [] });
  }
  if (s.target.created) {
    steps.push({
      kind: 'drop-table',
      summary: `drop table ${qualifiedName(s.target.schema, s.target.table)}${cascade ? ' and every object that depends on it (CASCADE)' : ''}`,
      sql: [`DROP TABLE IF EXISTS ${qualifiedName(s.target.schema, s.target.table)}${cascade ? ' CASCADE' : ''}`],
      destructive: holdsRows,
      reason: holdsRows ? 'the table this flow created is dropped with all its rows' : cascade ? 'objects that depend on the table are dropped with it' : 'the table this flow created is empty',
      hazards: holdsRows ? ['deletes-data', 'exclusive-lock'] : ['exclusive-lock'],
    });
  }
  steps.push({
    kind: 'state',
    summary: `forget flow "${flowName}" (row tracking and setup state)`,
    sql: [dropTrackingSql(flowName), `DELETE FROM ${flowsTableSql} WHERE flow = '…'`],
    destructive: false,
    hazards: [],
  });
  return steps;
}

export interface DropOptions {
  /** Only list the steps (what the CLI prints and the app's dialog shows); nothing runs. */
  dryRun?: boolean;
  /** Let a drop delete a table that holds rows. Without it such a drop is refused, and nothing runs. */
  allowDestructive?: boolean;
  /**
   * Drop objects that depend on the table too (a view an attachment created without a teardown
   * that removes it): `DROP TABLE … CASCADE`. Without it such a drop is refused naming them, and
   * nothing is dropped.
   */
  cascade?: boolean;
}

async function tableHoldsRows(client: pg.ClientBase, state: FlowStateRow | undefined): Promise<boolean> {
  if (!state?.setup.target.created) return false;
  const t = qualifiedName(state.setup.target.schema, state.setup.target.table);
  const exists = await client.query(`SELECT to_regclass($1) IS NOT NULL AS e`, [t]);
  if (!exists.rows[0]?.e) return false;
  const r = await client.query(`SELECT EXISTS (SELECT 1 FROM ${t}) AS e`);
  return r.rows[0]?.e === true || r.rows[0]?.e === 't';
}

export async function dropOn(client: pg.ClientBase, ctx: FlowContext, parts: readonly DropPart[], opts: DropOptions = {}): Promise<{ steps: PlanStep[] }> {
  const name = ctx.flow.name;
  const prepared = await prepareDrop(client, ctx, parts, { cascade: opts.cascade === true });
  if (!opts.dryRun && prepared.destructive.length && !opts.allowDestructive) {
    throw new TableSyncError('DESTRUCTIVE_NOT_ALLOWED', `dropping flow "${name}" would delete data, which runs only when allowed: ${prepared.destructive.map((s) => `${s.summary} (${s.reason ?? s.hazards.join(', ')})`).join('; ')}; target: unchanged`, destructiveRefusalDetail('drop', `flow "${name}"`, prepared.destructive));
  }
  if (opts.dryRun) return { steps: prepared.steps };
  if (!prepared.state) {
    await prepared.runHooks();
    return { steps: prepared.steps };
  }
  // The target's part runs first and commits last: when it fails (an object of someone else's
  // depends on the table) nothing has been dropped anywhere, the source's trigger included.
  await client.query('BEGIN');
  try {
    await prepared.runTarget(client);
    await prepared.runHooks();
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    if (e instanceof TableSyncError && e.code !== 'INTERNAL') throw e;
    throw toTableSyncError(e, `drop of flow "${name}" failed; the target is unchanged`);
  }
  return { steps: prepared.steps };
}

/**
 * A drop in two parts, for callers that drop many flows together (a set, in one target
 * transaction): `runHooks` runs the `parts` (outside any target transaction: the source side), then `runTarget`
 * inside the caller's transaction. `destructive`: the steps that delete data (the caller decides
 * whether they are allowed).
 */
export async function prepareDrop(client: pg.ClientBase, ctx: FlowContext, parts: readonly DropPart[], opts: { cascade?: boolean } = {}): Promise<{
  steps: PlanStep[];
  destructive: PlanStep[];
  state: FlowStateRow | undefined;
  runHooks: () => Promise<void>;
  runTarget: (client: pg.ClientBase) => Promise<void>;
}> {
  const name = ctx.flow.name;
  const state = await readFlowState(client, name);
  const targetSteps = targetDropSteps(name, state, await tableHoldsRows(client, state), opts.cascade === true);
  const contributions: DropContribution[] = [];
  for (const part of parts) {
    const c = await part(ctx, state);
    if (c) contributions.push(c);
  }
  return {
    steps: [...contributions.flatMap((c) => c.steps), ...targetSteps],
    destructive: targetSteps.filter((s) => s.destructive),
    state,
    runHooks: async () => {
      for (const c of contributions) await c.run();
    },
    runTarget: async (tx) => {
      for (const s of targetSteps) {
        if (s.kind === 'state') {
          await tx.query(dropTrackingSql(name));
          await deleteFlowState(tx, name);
          continue;
        }
        if (s.kind === 'drop-table' && state) {
          await dropTableOrExplain(tx, name, state, s.sql[0]!);
          continue;
        }
        for (const sql of s.sql) await tx.query(sql);
      }
    },
  };
}

const DEPENDENT_OBJECTS = '2BP01';

/**
 * DROP TABLE under a savepoint: when objects depend on the table (PostgreSQL refuses with 2BP01),
 * list them, after the teardowns ran (so what an attachment's teardown removes is not listed), say
 * which attachment's setup created each, and offer --cascade.
 */
async function dropTableOrExplain(tx: pg.ClientBase, flowName: string, state: FlowStateRow, sql: string): Promise<void> {
  const { schema, table } = state.setup.target;
  await tx.query('SAVEPOINT tablesync_drop_table');
  try {
    await tx.query(sql);
    await tx.query('RELEASE SAVEPOINT tablesync_drop_table');
    return;
  } catch (e) {
    await tx.query('ROLLBACK TO SAVEPOINT tablesync_drop_table');
    if (pgErrorFields(e)?.code !== DEPENDENT_OBJECTS) throw e;
  }
  const deps = await dependentObjects(tx, qualifiedName(schema, table));
  const described = deps.map((d) => {
    const by = state.setup.attachments.filter((a) => mentions(a.setupSql, d.name)).map((a) => `attachment "${a.name}"`);
    return `${d.what}${by.length ? ` (created by ${by.join(', ')}${by.length === 1 ? ', whose teardown does not remove it' : ''})` : ' (not created by this flow)'}`;
  });
  throw new TableSyncError(
    'INCOMPATIBLE_TARGET',
    `cannot drop flow "${flowName}": ${described.join('; ')} ${deps.length === 1 ? 'depends' : 'depend'} on its table ${qualifiedName(schema, table)}. `
    + 'Drop again with --cascade (in the app: tick "also drop what depends on the table") to remove them with the table, give the attachment a teardownSql that removes what its setup created, or drop them yourself. Nothing was dropped.',
    { dependents: deps, target: 'unchanged (nothing was dropped)' },
  );
}

/** Objects outside the table that depend on it: views, foreign keys of other tables, SQL functions, … */
async function dependentObjects(tx: pg.ClientBase, tableSql: string): Promise<{ what: string; name: string }[]> {
  const { rows } = await tx.query(
    `SELECT DISTINCT
            CASE WHEN d.classid = 'pg_rewrite'::regclass
                 THEN (CASE v.relkind WHEN 'm' THEN 'materialized view ' ELSE 'view ' END) || v.oid::regclass::text
                 ELSE pg_describe_object(d.classid, d.objid, 0) END AS what,
            CASE WHEN d.classid = 'pg_rewrite'::regclass THEN v.relname::text
                 WHEN d.classid = 'pg_constraint'::regclass THEN (SELECT conname::text FROM pg_constraint WHERE oid = d.objid)
                 WHEN d.classid = 'pg_proc'::regclass THEN (SELECT proname::text FROM pg_proc WHERE oid = d.objid)
                 WHEN d.classid = 'pg_class'::regclass THEN (SELECT relname::text FROM pg_class WHERE oid = d.objid)
                 ELSE pg_describe_object(d.classid, d.objid, 0) END AS name
       FROM pg_depend d
       LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
       LEFT JOIN pg_class v ON v.oid = r.ev_class
      WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = $1::regclass AND d.deptype = 'n'
        AND (r.oid IS NULL OR r.ev_class <> $1::regclass)
      ORDER BY 1`,
    [tableSql],
  );
  return rows as { what: string; name: string }[];
}

/** Whether `sql` names the object `name` (as a word, quoted or not, any case). */
function mentions(sql: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\p{L}\\p{N}_$])"?${escaped}"?($|[^\\p{L}\\p{N}_$])`, 'iu').test(sql);
}
