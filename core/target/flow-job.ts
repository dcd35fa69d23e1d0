/** A flow (file or app) as a sync job: its source table through core/source, its target spec. */
import type pg from 'pg';
import type { Flow } from '../flow/schema';
import type { FlowContext, SyncJob } from './job';
import { pgRowSource } from './row-source';

export async function jobFromFlow(ctx: FlowContext): Promise<SyncJob> {
  const { flow } = ctx;
  const source = await pgRowSource(ctx.sourcePool, flow.source);
  return {
    flowName: flow.name,
    source,
    target: {
      schema: flow.target.schema,
      table: flow.target.table,
      managedBy: flow.target.managedBy,
      ...(flow.target.columns ? { columns: flow.target.columns } : {}),
      ...(flow.target.vectorIndexes ? { vectorIndexes: flow.target.vectorIndexes } : {}),
      ...(flow.target.sqlAttachments ? { sqlAttachments: flow.target.sqlAttachments } : {}),
    },
    spec: specForFingerprint(flow),
  };
}

/** What of a flow decides what apply does (connections are where, not what). */
export function specForFingerprint(flow: Flow): unknown {
  const { connection: _s, notification: _n, replication: _r, ...source } = flow.source;
  const { connection: _t, ...target } = flow.target;
  return { name: flow.name, source, target };
}

/** Run `fn` on the context's lock-holding client, or on a connection checked out for the call. */
export async function withTargetClient<T>(ctx: { targetPool: pg.Pool; targetClient?: pg.PoolClient }, fn: (c: pg.ClientBase) => Promise<T>): Promise<T> {
  if (ctx.targetClient) return fn(ctx.targetClient);
  const client = await ctx.targetPool.connect();
  let broken = false;
  try {
    return await fn(client);
  } catch (e) {
    broken = true;
    throw e;
  } finally {
    client.release(broken ? true : undefined);
  }
}
