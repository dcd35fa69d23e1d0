/**
 * Running watches of saved flows (the live monitor): one core/live watchFlow per flow, its pools
 * open for as long as it runs. Change events and listener status go to the event bus; the latest
 * events are kept (bounded) so a monitor opened late can show the recent feed.
 */
import type { WatchInfo } from '../api/contract';
import type { ChangeEvent, ListenerStatus } from '../api/model';
import { watchFlow, type WatchHandle } from '../live';
import { toTableSyncError } from '../errors';
import type { Engine } from './engine';

const RECENT_MAX = 2000;

interface Running {
  flow: string;
  startedAt: string;
  status: ListenerStatus | null;
  counts: Record<string, number>;
  recent: ChangeEvent[];
  handle: WatchHandle;
  /** Saved connections the flow uses (a demo stop ends the watches on its servers first). */
  connectionIds: string[];
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

  recent(name: string, limit: number): ChangeEvent[] {
    const r = this.running.get(name);
    return r ? r.recent.slice(-limit) : [];
  }

  /** Start watching a saved flow (idempotent: a running watch is reported as is). */
  start(name: string): Promise<WatchInfo> {
    const cur = this.running.get(name);
    if (cur) return Promise.resolve(info(cur));
    let p = this.starting.get(name);
    if (!p) {
      p = this.doStart(name).finally(() => this.starting.delete(name));
      this.starting.set(name, p);
    }
    return p;
  }

  private async doStart(name: string): Promise<WatchInfo> {
    const { flow } = this.engine.flows.get(name);
    const { ctx, connectionIds } = await this.engine.openFlowContext(flow);
    const r: Running = { flow: name, startedAt: new Date().toISOString(), status: null, counts: {}, recent: [], handle: undefined as unknown as WatchHandle, connectionIds, targetUrl: ctx.targetUrl };
    try {
      r.handle = watchFlow(ctx, {
        onEvent: (e) => {
          if (e.catchUp) r.counts['caught up'] = (r.counts['caught up'] ?? 0) + e.catchUp.rows;
          else r.counts[e.outcome] = (r.counts[e.outcome] ?? 0) + 1;
          r.recent.push(e);
          if (r.recent.length > RECENT_MAX) r.recent.splice(0, r.recent.length - RECENT_MAX);
          this.engine.events.emit('flow.change', e);
        },
        onStatus: (s) => {
          r.status = s;
          this.engine.events.emit('flow.listener', s);
        },
      });
    } catch (e) {
      await ctx.close();
      throw e;
    }
    this.running.set(name, r);
    r.handle.done
      .catch((e: unknown) => {
        const err = toTableSyncError(e);
        const s: ListenerStatus = { time: new Date().toISOString(), flow: name, channel: r.status?.channel ?? '', state: 'failed', reason: err.message };
        r.status = s;
        this.engine.events.emit('flow.listener', s);
      })
      .finally(() => {
        if (this.running.get(name) === r) this.running.delete(name);
        void ctx.close();
      });
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
  return { flow: r.flow, startedAt: r.startedAt, status: r.status, counts: { ...r.counts } };
}
