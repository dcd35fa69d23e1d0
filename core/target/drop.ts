/**
 * drop: remove everything a flow created: attachments (teardown), vector indexes, the table when
 * system-managed, row tracking and the state row, in one target transaction. Other modules add
 * their own clean-up through drop hooks (core/live removes its trigger and function on the source):
 *
 * @example
 * registerDropHook(async (ctx, state) => ({
 *   steps: [{ kind: 'drop-trigger', summary: 'drop trigger …', sql: ['DROP TRIGGER …'], destructive: false, hazards: [] }],
 *   run: async () => { await ctx.sourcePool.query('DROP TRIGGER …'); },
 * }));
 *
 * Hooks are asked for their steps first (also for a dry run); their `run` is called before the
 * target transaction, so nothing notifies a flow that is going away.
 */
import type pg from 'pg';
import type { PlanStep } from '../api/model';
import { toTableSyncError } from '../errors';
import { qualifiedName } from '../sql/ident';
import { deleteFlowState, dropTrackingSql, flowsTableSql, readFlowState, type FlowStateRow } from '../state/store';
import type { FlowContext } from './job';
import { dropVectorIndexSql } from './vector-index';

export interface DropContribution {
  steps: PlanStep[];
  run: () => Promise<void>;
}

export type DropHook = (ctx: FlowContext, state: FlowStateRow | undefined) => Promise<DropContribution | undefined>;

const hooks = new Set<DropHook>();

/** Add clean-up to every dropFlow; returns a function that removes the hook. */
export function registerDropHook(hook: DropHook): () => void {
  hooks.add(hook);
  return () => hooks.delete(hook);
}

export function targetDropSteps(flowName: string, state: FlowStateRow | undefined): PlanStep[] {
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
      summary: `drop table ${qualifiedName(s.target.schema, s.target.table)}`,
      sql: [`DROP TABLE IF EXISTS ${qualifiedName(s.target.schema, s.target.table)}`],
      destructive: true,
      reason: 'the table this flow created is dropped with all its rows',
      hazards: ['deletes-data', 'exclusive-lock'],
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

export async function dropOn(client: pg.ClientBase, ctx: FlowContext, opts: { dryRun?: boolean } = {}): Promise<{ steps: PlanStep[] }> {
  const name = ctx.flow.name;
  const state = await readFlowState(client, name);
  const contributions: DropContribution[] = [];
  for (const h of hooks) {
    const c = await h(ctx, state);
    if (c) contributions.push(c);
  }
  const targetSteps = targetDropSteps(name, state);
  const steps = [...contributions.flatMap((c) => c.steps), ...targetSteps];
  if (opts.dryRun) return { steps };
  for (const c of contributions) await c.run();
  if (!state) return { steps };
  await client.query('BEGIN');
  try {
    for (const s of targetSteps) {
      if (s.kind === 'state') {
        await client.query(dropTrackingSql(name));
        await deleteFlowState(client, name);
        continue;
      }
      for (const sql of s.sql) await client.query(sql);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw toTableSyncError(e, `drop of flow "${name}" failed; the target is unchanged`);
  }
  return { steps };
}
