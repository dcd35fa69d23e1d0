/**
 * The common start of a live test: a source prepared by `setup`, the flow applied, and a watch that
 * has reached `live` (fast reconnects, see test/support/live.ts). `close()` stops the watch and drops
 * both databases.
 */
import { applyFlow, type FlowContext } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { watch, type Watching } from '../support/live';

export interface WatchedFlow {
  t: Pair;
  ctx: FlowContext;
  w: Watching;
  close(): Promise<void>;
}

export async function watchedFlow(prefix: string, setup: string[], spec: Parameters<Pair['ctx']>[0]): Promise<WatchedFlow> {
  const t = await sourceAndTarget(prefix);
  for (const sql of setup) await t.src.sql(sql);
  const ctx = t.ctx(spec);
  await applyFlow(ctx);
  const w = watch(ctx);
  await w.live();
  return { t, ctx, w, close: async () => { await w.stop(); await t.close(); } };
}
