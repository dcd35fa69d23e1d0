/**
 * Shared setup of the target-side tests: a source and a target database of their own on the
 * project's server, and a FlowContext over them with a ONE-connection target pool (what a PGlite
 * target allows: the engine must never need two target connections).
 */
import type { FlowContext } from '../../core/target';
import { createPool } from '../../core/connections/pool';
import { parseFlow } from '../../core/flow/load';
import type { FlowInput } from '../../core/flow/schema';
import { freshDatabase, type TestDatabase } from '../support/db';

export interface Pair {
  src: TestDatabase;
  tgt: TestDatabase;
  contexts: (FlowContext & { close: () => Promise<void> })[];
  ctx: (flow: Omit<FlowInput, 'version' | 'source' | 'target'> & { source: Omit<FlowInput['source'], 'connection'>; target: Omit<FlowInput['target'], 'connection'> }) => FlowContext;
  close: () => Promise<void>;
}

export async function sourceAndTarget(prefix = 'tg'): Promise<Pair> {
  const src = await freshDatabase(`${prefix}s`);
  const tgt = await freshDatabase(`${prefix}t`);
  const contexts: Pair['contexts'] = [];
  const pair: Pair = {
    src,
    tgt,
    contexts,
    ctx: (f) => {
      const flow = parseFlow({ version: 1, ...f, source: { connection: { url: src.url }, ...f.source }, target: { connection: { url: tgt.url }, ...f.target } });
      const sourcePool = createPool(src.url, { max: 2 });
      const targetPool = createPool(tgt.url, { max: 1 });
      const c = { flow, sourcePool, targetPool, sourceUrl: src.url, targetUrl: tgt.url, close: async () => { await sourcePool.end(); await targetPool.end(); } };
      contexts.push(c);
      return c;
    },
    close: async () => {
      for (const c of contexts) await c.close().catch(() => {});
      await src.drop();
      await tgt.drop();
    },
  };
  return pair;
}

/** Target rows as text, ordered by the first column. */
export async function rowsOf(db: TestDatabase, table: string, order = '1'): Promise<Record<string, string | null>[]> {
  return (await db.sql(`SELECT * FROM ${table} ORDER BY ${order}`)).rows as Record<string, string | null>[];
}
