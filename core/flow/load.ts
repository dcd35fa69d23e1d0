/**
 * Loading a flow file and opening it: validate with the versioned zod schema (errors name the JSON
 * path, INVALID_INPUT), resolve each connection reference through a ConnectionResolver
 * (core/flow/resolver.ts), and build the FlowContext the target operations take.
 */
import { readFile } from 'node:fs/promises';
import type { ZodError } from 'zod';
import { TableSyncError } from '../errors';
import { createPool } from '../connections/pool';
import { redactUrl } from '../connections/url';
import type { FlowContext } from '../target/job';
import type { ConnectionResolver, ResolvedConnection } from './resolver';
import { MAX_LOAD_STREAMS, flowSpec, type ConnectionRef, type Flow } from './schema';

export { connectionResolver, type ConnectionResolver, type ResolvedConnection, type SavedConnectionSource } from './resolver';

/** `target.columns.price.type: expected string` lines for a zod error. */
export function describeZodError(e: ZodError): string {
  return e.issues
    .map((i) => `${i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** Validate a parsed flow object. */
export function parseFlow(value: unknown, where = 'flow'): Flow {
  const r = flowSpec.safeParse(value);
  if (!r.success) throw new TableSyncError('INVALID_INPUT', `${where} is not a valid flow: ${describeZodError(r.error)}`, { issues: r.error.issues });
  return r.data;
}

/** Read a JSON file (a flow or a set); errors name the file. */
export async function readJsonFile(path: string, what = 'flow file'): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TableSyncError('INVALID_INPUT', `cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TableSyncError('INVALID_INPUT', `${what} ${path} is not JSON: ${(e as Error).message}`);
  }
}

/** Read and validate a flow file. */
export async function loadFlowFile(path: string): Promise<Flow> {
  return parseFlow(await readJsonFile(path), `flow file ${path}`);
}

/** How a connection reference reads in a message: `saved connection "x"`, `$VAR`, or the redacted URL. */
export function describeConnectionRef(ref: ConnectionRef, url: string): string {
  if ('saved' in ref) return `saved connection "${ref.saved}"`;
  if ('env' in ref) return `$${ref.env}`;
  return redactUrl(url);
}

export interface OpenFlowOptions {
  /** Target pool size: 1 for a one-connection server (PGlite); target operations never need more. */
  targetPoolMax?: number;
  applicationName?: string;
  /** How a reference reads in a connection failure (the app knows a saved connection's name for its id). */
  describeRef?: (ref: ConnectionRef) => string | undefined;
}

/** A flow's two ends, opened: pools, URLs, and how each reference resolved. `close()` ends the pools. */
export type OpenedFlow = FlowContext & { close: () => Promise<void>; resolved: { source: ResolvedConnection; target: ResolvedConnection } };

/**
 * Pools for a flow's two ends, its references resolved through `resolver` (the app's or the CLI's).
 * The target pool is capped by `opts.targetPoolMax`, else by the connection's own cap, else 1.
 */
export async function openFlow(flow: Flow, resolver: ConnectionResolver, opts: OpenFlowOptions = {}): Promise<OpenedFlow> {
  const source = await resolver.resolveConnection(flow.source.connection, 'source.connection');
  const target = await resolver.resolveConnection(flow.target.connection, 'target.connection');
  const app = opts.applicationName ?? `tablesync ${flow.name}`;
  // Up to MAX_LOAD_STREAMS + 1: a parallel initial load reads with one source connection per row
  // stream and one for the tracking marks (bulk.maxReaders is this pool's max), so `load.streams` /
  // `--streams` up to the limit are honoured; the pool opens connections only when used (the
  // default load takes at most 4).
  const sourcePool = createPool(source.url, { applicationName: app, max: MAX_LOAD_STREAMS + 1, label: { side: 'source', name: opts.describeRef?.(flow.source.connection) ?? describeConnectionRef(flow.source.connection, source.url) } });
  const targetPool = createPool(target.url, { applicationName: app, max: opts.targetPoolMax ?? 1, label: { side: 'target', name: opts.describeRef?.(flow.target.connection) ?? describeConnectionRef(flow.target.connection, target.url) } });
  return {
    flow, sourcePool, targetPool, sourceUrl: source.url, targetUrl: target.url,
    resolved: { source, target },
    close: async () => {
      await Promise.all([sourcePool.end().catch(() => {}), targetPool.end().catch(() => {})]);
    },
  };
}
