/**
 * Running watches of saved flows (the live monitor): one core/live watchFlow per flow, its pools
 * open for as long as it runs. Change events and listener status go to the event bus; the latest
 * events are kept (bounded) so a monitor opened late can show the recent feed.
 */
import type { WatchInfo } from '../api/contract';
import type { ChangeEvent, ListenerStatus } from '../api/model';
import { watchFlow, watchSet, type WatchHandle } from '../live';
import { openSet } from '../set/load';
import { expandSet } from '../set/expand';
import { TableSyncError } from '../errors';
import { toTableSyncError } from '../errors';
import type { Engine } from './engine';

const RECENT_MAX = 2000;

interface Running {
  flow: string;
  /** A set's one watcher (its events name the member flows `{set}.{table}`; its status names the set). */
  kind: 'flow' | 'set';
  startedAt: string;
  status: ListenerStatus | null;
  counts: Record<string, number>;
  recent: ChangeEvent[];
  handle: WatchHandle;
  /** Saved connections the flow uses (a demo stop ends the watches on its servers first). */
  connectionIds: string[];
  /** A set's member flows, as expanded when the watch started. */
  members?: string[];
  /** The target's URL: a watch holds a session there for as long as it runs (the flow lock). */
  targetUrl: string;
}

export class WatchManager {
  private readonly running = new Map<string, Running>();
  private readonly starting = new Map<string, Promise<WatchInfo>>();

  constructor(private readonly engine: Engine) {}

  isWatching(name: string): boolean {
    return this.running.has(name);
  }

  /** The flow whose running watch holds a session on this target server, if any. */
  holdingSessionOn(targetUrl: string): string | undefined {
    const same = (a: string, b: string) => { const x = new URL(a); const y = new URL(b); return x.host === y.host && x.pathname === y.pathname; };
    for (const r of this.running.values()) if (same(r.targetUrl, targetUrl)) return r.flow;
    return undefined;
  }

  list(): WatchInfo[] {
    return [...this.running.values()].map(info);
  }

  /** The latest events of a flow's watch, or of a set's (every member's, in arrival order). */
  recent(name: string, limit: number): ChangeEvent[] {
    const r = this.running.get(name);
    return r ? r.recent.slice(-limit) : [];
  }

  /**
   * Start watching a saved flow (idempotent: a running watch is reported as is). `resync`: a
   * logical-replication flow whose slot was invalidated drops and recreates it (full catch-up).
   */
  start(name: string, opts: { resync?: boolean } = {}): Promise<WatchInfo> {
    const cur = this.running.get(name);
    if (cur) return Promise.resolve(info(cur));
    let p = this.starting.get(name);
    if (!p) {
      p = this.doStart(name, opts).finally(() => this.starting.delete(name));
      this.starting.set(name, p);
    }
    return p;
  }

  /**
   * Start the one watcher of a saved set (core/live watchSet: one listener connection for every
   * member, a source transaction applied as one target transaction). Idempotent like `start`.
   * Set and flow names share one namespace here (a set's member flows are `{set}.{table}`, and a
   * set name has no "."), so a set is keyed by its name.
   */
  startSet(name: string): Promise<WatchInfo> {
    const cur = this.running.get(name);
    if (cur) {
      if (cur.kind !== 'set') throw new TableSyncError('INVALID_INPUT', `"${name}" is watched as a flow, not a set`);
      return Promise.resolve(info(cur));
    }
    let p = this.starting.get(name);
    if (!p) {
      p = this.doStartSet(name).finally(() => this.starting.delete(name));
      this.starting.set(name, p);
    }
    return p;
  }

  private async doStartSet(name: string): Promise<WatchInfo> {
    const saved = this.engine.settings.getSet(name);
    if (!saved) throw new TableSyncError('NOT_FOUND', `no saved set named "${name}"`, { set: name });
    const spec = saved.set;
    const ctx = await openSet(spec, this.engine, { applicationName: `tablesync set ${name}` });
    const connectionIds = [spec.source.connection, spec.target.connection].flatMap((c) => ('saved' in c ? [c.saved] : []));
    const r: Running = { flow: name, kind: 'set', startedAt: new Date().toISOString(), status: null, counts: {}, recent: [], handle: undefined as unknown as WatchHandle, connectionIds, targetUrl: ctx.targetUrl };
    try {
      await this.engine.releaseSingleSession(ctx.resolved.source);
      await this.engine.releaseSingleSession(ctx.resolved.target);
      r.members = (await expandSet(ctx.sourcePool, spec)).members.filter((m) => m.flow.source.notification).map((m) => m.flow.name);
      r.handle = watchSet(ctx, { onEvent: (e) => this.record(r, e), onStatus: (s) => this.status(r, s) });
    } catch (e) {
      await ctx.close();
      throw e;
    }
    this.track(name, r, () => ctx.close());
    return info(r);
  }

  private record(r: Running, e: ChangeEvent): void {
    if (e.catchUp) r.counts['caught up'] = (r.counts['caught up'] ?? 0) + e.catchUp.rows;
    else r.counts[e.outcome] = (r.counts[e.outcome] ?? 0) + 1;
    r.recent.push(e);
    if (r.recent.length > RECENT_MAX) r.recent.splice(0, r.recent.length - RECENT_MAX);
    this.engine.events.emit('flow.change', e);
  }

  private status(r: Running, s: ListenerStatus): void {
    r.status = s;
    this.engine.events.emit('flow.listener', s);
  }

  private track(name: string, r: Running, close: () => Promise<void>): void {
    this.running.set(name, r);
    r.handle.done
      .catch((e: unknown) => {
        const err = toTableSyncError(e);
        // the watch's own last word (an invalidated slot says so in `slot`) is kept
        if (r.status?.state === 'failed' && r.status.reason === err.message) return; // the watch said it already
        const slot = r.status?.state === 'failed' ? r.status.slot : undefined;
        this.status(r, { time: new Date().toISOString(), flow: name, channel: r.status?.channel ?? '', state: 'failed', reason: err.message, ...(slot ? { slot } : {}) });
      })
      .finally(() => {
        if (this.running.get(name) === r) this.running.delete(name);
        void close();
      });
  }

  private async doStart(name: string, opts: { resync?: boolean }): Promise<WatchInfo> {
    const { flow } = this.engine.flows.get(name);
    const { ctx, connectionIds } = await this.engine.openFlowContext(flow);
    const r: Running = { flow: name, kind: 'flow', startedAt: new Date().toISOString(), status: null, counts: {}, recent: [], handle: undefined as unknown as WatchHandle, connectionIds, targetUrl: ctx.targetUrl };
    try {
      r.handle = watchFlow(ctx, { onEvent: (e) => this.record(r, e), onStatus: (s) => this.status(r, s), ...(opts.resync ? { resync: true } : {}) });
    } catch (e) {
      await ctx.close();
      throw e;
    }
    this.track(name, r, () => ctx.close());
    return info(r);
  }

  async stop(name: string): Promise<boolean> {
    await this.starting.get(name)?.catch(() => {});
    const r = this.running.get(name);
    if (!r) return false;
    this.running.delete(name);
    await r.handle.stop();
    await r.handle.done.catch(() => {});
    return true;
  }

  async stopOn(connectionIds: string[]): Promise<void> {
    const names = [...this.running.values()].filter((r) => r.connectionIds.some((id) => connectionIds.includes(id))).map((r) => r.flow);
    await Promise.all(names.map((n) => this.stop(n)));
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((n) => this.stop(n)));
  }
}

function info(r: Running): WatchInfo {
  return { flow: r.flow, ...(r.kind === 'set' ? { set: true, members: [...(r.members ?? [])] } : {}), startedAt: r.startedAt, status: r.status, counts: { ...r.counts } };
}
