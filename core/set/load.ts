/**
 * Loading a set file and opening its two ends. A set has one source and one target connection, so
 * every member shares one source pool and one target pool (and, while applying, one target
 * connection and transaction).
 */
import type pg from 'pg';
import { TableSyncError } from '../errors';
import { createPool } from '../connections/pool';
import { describeConnectionRef, describeZodError, readJsonFile } from '../flow/load';
import type { ConnectionResolver, ResolvedConnection } from '../flow/resolver';
import { setSpec, type SetSpec } from '../flow/schema.set';

/** Validate a parsed set object. */
export function parseSet(value: unknown, where = 'set'): SetSpec {
  const r = setSpec.safeParse(value);
  if (!r.success) throw new TableSyncError('INVALID_INPUT', `${where} is not a valid set: ${describeZodError(r.error)}`, { issues: r.error.issues });
  return r.data;
}

/** Read and validate a set file. */
export async function loadSetFile(path: string): Promise<SetSpec> {
  return parseSet(await readJsonFile(path, 'set file'), `set file ${path}`);
}

/** A set's two ends: pools shared by every member. */
export interface SetContext {
  set: SetSpec;
  sourcePool: pg.Pool;
  targetPool: pg.Pool;
  sourceUrl: string;
  targetUrl: string;
  resolved: { source: ResolvedConnection; target: ResolvedConnection };
  close(): Promise<void>;
}

export async function openSet(set: SetSpec, resolver: ConnectionResolver, opts: { applicationName?: string } = {}): Promise<SetContext> {
  const source = await resolver.resolveConnection(set.source.connection, `set "${set.set}" source.connection`);
  const target = await resolver.resolveConnection(set.target.connection, `set "${set.set}" target.connection`);
  const app = opts.applicationName ?? `tablesync set ${set.set}`;
  const sourcePool = createPool(source.url, { applicationName: app, max: 4, label: { side: 'source', name: describeConnectionRef(set.source.connection, source.url) } });
  // One target connection does everything (the set's locks and its one transaction live on it).
  const targetPool = createPool(target.url, { applicationName: app, max: 1, label: { side: 'target', name: describeConnectionRef(set.target.connection, target.url) } });
  return {
    set, sourcePool, targetPool, sourceUrl: source.url, targetUrl: target.url, resolved: { source, target },
    close: async () => {
      await Promise.all([sourcePool.end().catch(() => {}), targetPool.end().catch(() => {})]);
    },
  };
}
