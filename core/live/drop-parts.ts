/**
 * What a drop removes on the source, live capture's side of it: the trigger capture's function and
 * triggers, a logical flow's slot and publication, each only when it is this flow's. Kept apart
 * from the watch (./index.ts, ./watch.ts, ./logical.ts) so a command that only plans or drops
 * loads none of the listener, batching or replication code (bench:startup, issue 12).
 */
import type { DropPart, FlowContext } from '../target';
import { qualifiedName } from '../sql/ident';
import { captureNames, type CaptureNames } from './channel';
import { dropCapture, planCaptureDrop } from './capture';
import { dropPublicationIfOurs, dropSlot, isLogicalState, logicalDropSql, logicalNames, slotInfo } from './logical-objects';

/** What core/live records in the flow's state row (tablesync.flows.live), so drop removes what was created. */
export interface LiveState {
  schema: string;
  table: string;
  channel: string;
  functionName: string;
  rowTrigger: string;
  truncateTrigger: string;
  /** A partitioned table's partitions as the last catch-up saw them (capture.ts partitionSignature). */
  partitions?: string;
  /**
   * A timestamptz ordinal's flow: the source's clock (epoch ms) at a moment when every change
   * committed before it was applied (before the last catch-up's scan, or the trigger time of the
   * last applied batch): the next window starts at or below it (core/target/catch-up.ts anchor).
   */
  clockMs?: number;
  /** A change was seen with an ordinal below its catch-up's window: every catch-up is the full scan, for this reason (while the ordinal column is `column`). */
  notMonotone?: { column: string; reason: string };
}

/** The capture names for a flow (channel from `source.notification.channelName`, else the default). */
export function flowCaptureNames(flow: FlowContext['flow']): CaptureNames {
  return captureNames(flow.name, flow.source.table, flow.source.notification?.channelName);
}

export function namesOf(l: LiveState): CaptureNames {
  return { channel: l.channel, functionName: l.functionName, rowTrigger: l.rowTrigger, truncateTrigger: l.truncateTrigger };
}

export function isLiveState(v: unknown): v is LiveState {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return ['schema', 'table', 'channel', 'functionName', 'rowTrigger', 'truncateTrigger'].every((k) => typeof o[k] === 'string');
}

/**
 * The part of dropFlow that removes the source's capture objects: those recorded when watch last
 * ran (the flow's channel or table may have changed since), and those the flow names now. Only
 * objects marked as this flow's are removed (triggers first, then the function, and the function
 * only when nothing else calls it); others of those names are listed as left alone.
 * Passed to dropFlow by dropPartsFor (core/app/drop-parts.ts).
 */
export const captureDropPart: DropPart = async (ctx, state) => {
  const targets: Array<{ schema: string; table: string; names: CaptureNames }> = [];
  if (isLiveState(state?.live)) targets.push({ schema: state.live.schema, table: state.live.table, names: namesOf(state.live) });
  const current = { schema: ctx.flow.source.schema, table: ctx.flow.source.table, names: flowCaptureNames(ctx.flow) };
  if (!targets.some((t) => t.schema === current.schema && t.table === current.table && t.names.channel === current.names.channel)) targets.push(current);
  const flow = ctx.flow.name;
  const planned = await Promise.all(targets.map(async (t) => ({ t, plan: await planCaptureDrop(ctx.sourcePool, flow, t, t.names) })));
  const relevant = planned.filter((p) => p.plan.statements.length > 0 || p.plan.leftAlone.length > 0);
  if (relevant.length === 0) return undefined;
  return {
    steps: relevant.map(({ t, plan }) => ({
      kind: 'drop-trigger' as const,
      summary: [
        plan.statements.length > 0
          ? `drop change-capture triggers and function "${t.names.functionName}" on the source`
          : `no change-capture objects of this flow on ${qualifiedName(t.schema, t.table)}`,
        ...(plan.leftAlone.length > 0 ? [`left alone, not this flow's: ${plan.leftAlone.join(', ')}`] : []),
      ].join('; '),
      sql: plan.statements,
      destructive: false,
      hazards: [],
    })),
    run: async () => {
      for (const { t } of relevant) await dropCapture(ctx.sourcePool, flow, t, t.names);
    },
  };
};

/**
 * The part of dropFlow that removes a logical flow's slot and its publication, each only when it is
 * ours: the slot when the flow's state records it (a slot carries no marker, and the watch records
 * the slots it creates at once), the publication when it carries the flow's marker.
 */
export const logicalDropPart: DropPart = async (ctx, state) => {
  const recorded = isLogicalState(state?.live) ? state.live : undefined;
  if (!recorded && !ctx.flow.source.replication) return undefined;
  const names = recorded ? { slot: recorded.slot, publication: recorded.publication } : logicalNames(ctx.flow);
  const hasSlot = recorded !== undefined && (await slotInfo(ctx.sourcePool, names.slot).catch(() => undefined)) !== undefined;
  const { rows } = await ctx.sourcePool.query<{ c: string | null }>(`SELECT obj_description(oid, 'pg_publication') AS c FROM pg_publication WHERE pubname = $1`, [names.publication]).catch(() => ({ rows: [] as { c: string | null }[] }));
  const ownPublication = rows.length > 0 && rows[0]!.c === `tablesync flow ${JSON.stringify(ctx.flow.name)}`;
  if (!hasSlot && !ownPublication) return undefined;
  return {
    steps: [{
      kind: 'drop-trigger' as const,
      summary: `drop replication slot "${names.slot}"${ownPublication ? ` and publication "${names.publication}"` : ''} on the source`,
      sql: logicalDropSql(names, ownPublication),
      destructive: false,
      hazards: [],
    }],
    run: async () => {
      if (hasSlot) await dropSlot(ctx.sourcePool, names.slot);
      if (ownPublication) await dropPublicationIfOurs(ctx.sourcePool, names.publication, ctx.flow.name);
    },
  };
};
