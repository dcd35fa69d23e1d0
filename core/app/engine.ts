/**
 * The engine as the app sees it: one object that owns the saved connections and flows, the pools,
 * the running watches, cancellable requests, the demo, and the event bus. The dispatcher calls it;
 * the transports (Electron IPC, WebSocket) subscribe to its events. Nothing here knows about a
 * window.
 */
import { join } from 'node:path';
import type pg from 'pg';
import type { AppInfo } from '../api/contract';
import type { ConnectionRef, Flow } from '../flow/schema';
import { TableSyncError } from '../errors';
import { openFlow } from '../flow/load';
import type { SetSpec } from '../flow/schema.set';
import { openSet, type SetContext } from '../set/load';
import { connectionResolver, type ConnectionResolver, type ResolvedConnection } from '../flow/resolver';
import type { FlowContext } from '../target/job';
import { FileSecretStore, type SecretStore } from '../settings/secret-store';
import { SettingsStore } from '../settings/settings-store';
import { ConnectionService, warmSingleSession } from './connections';
import { EventBus } from './event-bus';
import { FlowService } from './flows';
import { RequestRegistry } from './requests';
import { WatchManager } from './watches';
import { DemoManager, type DemoOptions } from '../demo/manager';

export interface EngineOptions {
  /** Settings, secrets and the demo live here (see core/settings/data-dir.ts). */
  dataDir: string;
  mode: 'electron' | 'browser';
  /** Default: a 0600 file in the data folder (plain text, and the app info says so). */
  secrets?: SecretStore;
  version?: string;
  env?: NodeJS.ProcessEnv;
  demo?: DemoOptions;
}

export type { ResolvedConnection } from '../flow/resolver';

export class Engine implements ConnectionResolver {
  readonly dataDir: string;
  readonly mode: 'electron' | 'browser';
  readonly version: string;
  readonly settings: SettingsStore;
  readonly secrets: SecretStore;
  readonly connections: ConnectionService;
  readonly flows: FlowService;
  readonly events = new EventBus();
  readonly requests = new RequestRegistry();
  readonly demo: DemoManager;
  readonly watches: WatchManager;
  private readonly resolver: ConnectionResolver;
  private readonly closers: (() => Promise<void>)[] = [];
  private closed = false;

  constructor(opts: EngineOptions) {
    this.dataDir = opts.dataDir;
    this.mode = opts.mode;
    this.version = opts.version ?? '0.0.0';
    this.settings = new SettingsStore(opts.dataDir);
    this.secrets = opts.secrets ?? new FileSecretStore(join(opts.dataDir, 'secrets.json'));
    this.connections = new ConnectionService(this.settings, this.secrets);
    this.flows = new FlowService(this.settings, this.secrets);
    this.demo = new DemoManager(this, opts.demo);
    this.watches = new WatchManager(this);
    // The one resolver (core/flow/resolver.ts); saved connections by id or name through the secret store.
    this.resolver = connectionResolver({
      env: opts.env ?? process.env,
      saved: async (nameOrId) => {
        const c = this.settings.findConnection(nameOrId);
        if (!c) return undefined;
        return { url: await this.connections.url(c.id), connectionId: c.id, ...(c.poolMax ? { poolMax: c.poolMax } : {}) };
      },
    });
  }

  info(): AppInfo {
    return {
      version: this.version,
      mode: this.mode,
      platform: process.platform,
      dataDir: this.dataDir,
      secretStorage: this.secrets.status(),
      firstRun: this.settings.listConnections().length === 0,
    };
  }

  /**
   * A connection reference as a URL: `{ saved }` by id or name through the secret store, `{ env }`
   * from the environment, `{ url }` as given (the one resolver, core/flow/resolver.ts).
   */
  resolveConnection(ref: ConnectionRef, where?: string): Promise<ResolvedConnection> {
    return this.resolver.resolveConnection(ref, where);
  }

  /**
   * Before a saved one-session server (the demo target) is used by a flow or set: our own idle pool
   * on it must let go of its only session.
   */
  async releaseSingleSession(resolved: ResolvedConnection): Promise<void> {
    if (resolved.poolMax === 1 && resolved.connectionId) await this.connections.closePool(resolved.connectionId);
  }

  /**
   * Open a flow's two ends (pools on its source and target); the caller closes them. Saved-connection
   * references are resolved here, where the secrets are.
   */
  async openFlowContext(given: Flow): Promise<{ ctx: FlowContext & { close: () => Promise<void> }; connectionIds: string[] }> {
    // Inline passwords saved with the flow (shown as ***) come back from the secret store here.
    const flow = await this.flows.withSecrets(given);
    const target = await this.resolveConnection(flow.target.connection, 'target.connection');
    if (target.poolMax === 1) {
      // A running watch holds the flow lock on its target's only session for as long as it runs;
      // a second session would be refused by the server ("Connection terminated unexpectedly").
      const holder = this.watches.holdingSessionOn(target.url);
      if (holder !== undefined) {
        throw new TableSyncError('LOCKED', `the target of flow "${flow.name}" serves one session at a time, and the live watch of flow "${holder}" holds it: stop watching "${holder}" (Monitor → Stop watching) to plan, apply or drop, then start it again`, { flow: holder });
      }
    }
    const ctx = await openFlow(flow, this, {
      applicationName: `tablesync ${flow.name}`,
      describeRef: (ref) => ('saved' in ref ? `saved connection "${this.settings.findConnection(ref.saved)?.name ?? ref.saved}"` : undefined),
    });
    const { source } = ctx.resolved;
    const connectionIds = [source.connectionId, ctx.resolved.target.connectionId].filter((id): id is string => id !== undefined);
    try {
      // a one-session server (the demo target) must not be held by an idle pool of ours
      await this.releaseSingleSession(source);
      await this.releaseSingleSession(ctx.resolved.target);
      if (ctx.resolved.target.poolMax === 1) await warmSingleSession(ctx.targetPool);
    } catch (e) {
      await ctx.close();
      throw e;
    }
    return { ctx, connectionIds };
  }

  /** Open a set's two ends (its references resolved here, where the secrets are), run `fn`, close them. */
  async withSet<T>(set: SetSpec, fn: (ctx: SetContext) => Promise<T>, opts: { onBackend?: (url: string, client: pg.ClientBase) => unknown } = {}): Promise<T> {
    const ctx = await openSet(set, this, { applicationName: `tablesync set ${set.set}` });
    try {
      await this.releaseSingleSession(ctx.resolved.source);
      await this.releaseSingleSession(ctx.resolved.target);
      const { onBackend } = opts;
      if (onBackend) {
        ctx.sourcePool.on('acquire', (c) => onBackend(ctx.sourceUrl, c));
        ctx.targetPool.on('acquire', (c) => onBackend(ctx.targetUrl, c));
      }
      return await fn(ctx);
    } finally {
      await ctx.close();
    }
  }

  /**
   * Open a flow's two ends, run `fn`, close them. `onBackend` hears of every server session the
   * work checks out, so a cancel (query.cancel) can stop what runs there.
   */
  async withFlow<T>(flow: Flow, fn: (ctx: FlowContext) => Promise<T>, opts: { onBackend?: (url: string, client: pg.ClientBase) => unknown } = {}): Promise<T> {
    const { ctx } = await this.openFlowContext(flow);
    const { onBackend } = opts;
    if (onBackend) {
      ctx.sourcePool.on('acquire', (c) => onBackend(ctx.sourceUrl, c));
      ctx.targetPool.on('acquire', (c) => onBackend(ctx.targetUrl, c));
    }
    try {
      return await fn(ctx);
    } finally {
      await ctx.close();
    }
  }

  /** Stop a running watch of this flow, if any. */
  stopWatch(name: string): Promise<boolean> {
    return this.watches.stop(name);
  }

  /** Stop running watches whose flow uses one of these saved connections (before their server stops). */
  stopWatchesOn(connectionIds: string[]): Promise<void> {
    return this.watches.stopOn(connectionIds);
  }

  /** Run at close, last registered first (watches stop before the pools they use close). */
  onClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const fn of [...this.closers].reverse()) await fn().catch(() => {});
    await this.watches.stopAll().catch(() => {});
    await this.demo.stop().catch(() => {});
    await this.connections.closeAll();
  }
}
