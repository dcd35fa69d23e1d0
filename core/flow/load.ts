/**
 * Loading a flow file and opening it: validate with the versioned zod schema (errors name the JSON
 * path, INVALID_INPUT), resolve each connection reference to a URL, and build the FlowContext the
 * target operations take.
 */
import { readFile } from 'node:fs/promises';
import type { ZodError } from 'zod';
import { TableSyncError } from '../errors';
import { createPool } from '../connections/pool';
import { parseConnectionUrl, redactUrl } from '../connections/url';
import type { FlowContext } from '../target/job';
import { flowSpec, type ConnectionRef, type Flow } from './schema';

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

/** Read and validate a flow file. */
export async function loadFlowFile(path: string): Promise<Flow> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TableSyncError('INVALID_INPUT', `cannot read flow file ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TableSyncError('INVALID_INPUT', `flow file ${path} is not JSON: ${(e as Error).message}`);
  }
  return parseFlow(json, `flow file ${path}`);
}

export type ResolveConnection = (ref: ConnectionRef, role: 'source' | 'target') => string;

/**
 * Resolve `{url}`, `{env}` and (through `lookupSaved`, which the app provides) `{saved}` references.
 * @example const resolve = connectionResolver({ env: process.env });
 */
export function connectionResolver(opts: { env?: NodeJS.ProcessEnv; lookupSaved?: (name: string) => string | undefined } = {}): ResolveConnection {
  const env = opts.env ?? process.env;
  return (ref, role) => {
    let url: string | undefined;
    if ('url' in ref) url = ref.url;
    else if ('env' in ref) {
      url = env[ref.env];
      if (!url) throw new TableSyncError('INVALID_INPUT', `${role}.connection: environment variable ${ref.env} is not set (it should hold a postgres:// URL)`);
    } else {
      url = opts.lookupSaved?.(ref.saved);
      if (!url) throw new TableSyncError('NOT_FOUND', `${role}.connection: no saved connection named "${ref.saved}"${opts.lookupSaved ? '' : ' (saved connections exist only in the app)'}`);
    }
    try {
      parseConnectionUrl(url);
    } catch (e) {
      // Name the variable, never its value (it may be anything: PATH, a DSN with a password).
      const where = 'env' in ref ? `environment variable ${ref.env} does not hold a usable connection URL` : 'saved' in ref ? `saved connection "${ref.saved}"` : 'url';
      throw new TableSyncError('INVALID_INPUT', `${role}.connection: ${where}: ${(e as Error).message}`, { role, ...('env' in ref ? { env: ref.env } : {}) });
    }
    return url;
  };
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

/** Pools for a flow's two ends. `close()` ends them. */
export async function openFlow(flow: Flow, resolve: ResolveConnection, opts: OpenFlowOptions = {}): Promise<FlowContext & { close: () => Promise<void> }> {
  const sourceUrl = resolve(flow.source.connection, 'source');
  const targetUrl = resolve(flow.target.connection, 'target');
  const app = opts.applicationName ?? `tablesync ${flow.name}`;
  const sourcePool = createPool(sourceUrl, { applicationName: app, max: 4, label: { side: 'source', name: opts.describeRef?.(flow.source.connection) ?? describeConnectionRef(flow.source.connection, sourceUrl) } });
  const targetPool = createPool(targetUrl, { applicationName: app, max: opts.targetPoolMax ?? 1, label: { side: 'target', name: opts.describeRef?.(flow.target.connection) ?? describeConnectionRef(flow.target.connection, targetUrl) } });
  return {
    flow, sourcePool, targetPool, sourceUrl, targetUrl,
    close: async () => {
      await Promise.all([sourcePool.end().catch(() => {}), targetPool.end().catch(() => {})]);
    },
  };
}
