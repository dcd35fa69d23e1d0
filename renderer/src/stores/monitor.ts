/**
 * The live monitor: per flow, the listener's state and its history, the change feed (bounded,
 * pausable, filterable) and per-second throughput and latency series for the chart. Events arrive
 * for every flow; each flow keeps its own bounded buffers so memory does not grow with time.
 */
import { createStore } from 'zustand/vanilla';
import { errorMessage, type ApiClient } from '../api/client';
import type { ChangeEvent, ListenerStatus, WatchInfo } from '../api/types';

export const FEED_MAX = 500;
export const SERIES_SECONDS = 120;

export interface Bucket { t: number; count: number; latencySum: number; latencyN: number; latencyMax: number }

export interface FlowMonitor {
  status: ListenerStatus | null;
  statusLog: ListenerStatus[];
  feed: ChangeEvent[];
  /** Events that arrived while paused (shown on resume). */
  held: ChangeEvent[];
  series: Bucket[];
  totals: Record<string, number>;
  watching: boolean;
}

export interface MonitorState {
  flows: Record<string, FlowMonitor>;
  selected: string | null;
  paused: boolean;
  filterText: string;
  /** A set's combined feed shows only this member table ('' = every table). */
  tableFilter: string;
  opFilter: 'all' | 'insert' | 'update' | 'delete' | 'failed';
  busy: boolean;
  error: string | null;
  select(flow: string | null): Promise<void>;
  /** `resync`: a logical flow whose slot was invalidated drops and recreates it, then a full catch-up. */
  start(flow: string, opts?: { resync?: boolean }): Promise<void>;
  stop(flow: string): Promise<void>;
  /** A set's one watcher (sets.watchStart/Stop): its status arrives under the set's name, its events under the member flows. */
  startSet(set: string): Promise<void>;
  stopSet(set: string): Promise<void>;
  setTableFilter(t: string): void;
  /** The member tables of a set seen so far (events arrive under `{set}.{table}`), sorted. */
  setTables(set: string): string[];
  /** The set's combined feed, newest first: every member's visible events with its table, after the table filter. */
  setFeed(set: string): (ChangeEvent & { table: string })[];
  refreshWatches(): Promise<void>;
  onChange(e: ChangeEvent): void;
  onListener(s: ListenerStatus): void;
  setPaused(p: boolean): void;
  setFilterText(t: string): void;
  setOpFilter(f: MonitorState['opFilter']): void;
  visibleFeed(flow: string): ChangeEvent[];
  /** Changes per second and mean latency over the 10 seconds before `nowMs` (0 once nothing arrives). */
  throughput(flow: string, nowMs?: number): { perSecond: number; avgLatencyMs: number | null };
}

/** The window the monitor's rate is measured over. */
export const RATE_SECONDS = 10;

const emptyMonitor = (): FlowMonitor => ({ status: null, statusLog: [], feed: [], held: [], series: [], totals: {}, watching: false });

function addToSeries(series: Bucket[], e: ChangeEvent): Bucket[] {
  const t = Math.floor(Date.parse(e.time) / 1000) || Math.floor(Date.now() / 1000);
  const last = series[series.length - 1];
  let out = series;
  if (!last || last.t < t) {
    out = series.concat({ t, count: 0, latencySum: 0, latencyN: 0, latencyMax: 0 });
    const min = t - SERIES_SECONDS;
    while (out.length && out[0]!.t < min) out = out.slice(1);
  }
  const b = out.find((x) => x.t === t) ?? out[out.length - 1]!;
  const nb: Bucket = { ...b, count: b.count + 1 };
  if (e.latencyMs !== null) {
    nb.latencySum += e.latencyMs;
    nb.latencyN += 1;
    nb.latencyMax = Math.max(nb.latencyMax, e.latencyMs);
  }
  return out.map((x) => (x === b ? nb : x));
}

export function createMonitorStore(api: ApiClient) {
  return createStore<MonitorState>()((set, get) => {
    const update = (flow: string, f: (m: FlowMonitor) => FlowMonitor) => {
      const cur = get().flows[flow] ?? emptyMonitor();
      set({ flows: { ...get().flows, [flow]: f(cur) } });
    };
    const applyWatch = (w: WatchInfo) => {
      // A set's members are listed before their first event (its monitor has a row for each).
      for (const f of w.members ?? []) if (!get().flows[f]) update(f, (m) => m);
      update(w.flow, (m) => ({ ...m, watching: true, status: w.status ?? m.status, totals: { ...w.counts } }));
    };
    return {
      flows: {},
      selected: null,
      paused: false,
      filterText: '',
      tableFilter: '',
      opFilter: 'all',
      busy: false,
      error: null,
      async select(flow) {
        set({ selected: flow, error: null });
        if (!flow) return;
        await get().refreshWatches();
        if (get().flows[flow]?.watching && (get().flows[flow]?.feed.length ?? 0) === 0) {
          try {
            const recent = await api.call('flows.watchRecent', { name: flow, limit: 200 });
            // A set's recent events belong to its member flows: each goes to its own feed.
            const by = new Map<string, ChangeEvent[]>();
            for (const e of recent) by.set(e.flow, [...(by.get(e.flow) ?? []), e]);
            for (const [f, es] of by) update(f, (m) => (m.feed.length ? m : { ...m, feed: es.slice(-FEED_MAX).reverse() }));
          } catch {
            /* an empty feed is fine: new events still arrive */
          }
        }
      },
      async start(flow, opts) {
        set({ busy: true, error: null });
        try {
          const w = await api.call('flows.watchStart', { name: flow, ...(opts?.resync ? { resync: true } : {}) });
          applyWatch(w);
        } catch (e) {
          set({ error: errorMessage(e) });
        } finally {
          set({ busy: false });
        }
      },
      async stop(flow) {
        set({ busy: true, error: null });
        try {
          await api.call('flows.watchStop', { name: flow });
          update(flow, (m) => ({ ...m, watching: false }));
        } catch (e) {
          set({ error: errorMessage(e) });
        } finally {
          set({ busy: false });
        }
      },
      async startSet(setName) {
        set({ busy: true, error: null });
        try {
          applyWatch(await api.call('sets.watchStart', { name: setName }));
        } catch (e) {
          set({ error: errorMessage(e) });
        } finally {
          set({ busy: false });
        }
      },
      async stopSet(setName) {
        set({ busy: true, error: null });
        try {
          await api.call('sets.watchStop', { name: setName });
          update(setName, (m) => ({ ...m, watching: false }));
        } catch (e) {
          set({ error: errorMessage(e) });
        } finally {
          set({ busy: false });
        }
      },
      setTableFilter: (tableFilter) => set({ tableFilter }),
      setTables(setName) {
        const prefix = `${setName}.`;
        return Object.keys(get().flows).filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length)).sort();
      },
      setFeed(setName) {
        const { tableFilter } = get();
        const tables = get().setTables(setName).filter((t) => !tableFilter || t === tableFilter);
        const all = tables.flatMap((table) => get().visibleFeed(`${setName}.${table}`).map((e) => ({ ...e, table })));
        // newest first; a stable sort keeps each member's own order for events of the same instant
        return all.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)).slice(0, FEED_MAX);
      },
      async refreshWatches() {
        try {
          const ws = await api.call('flows.watchList', {});
          const running = new Set(ws.map((w) => w.flow));
          for (const w of ws) applyWatch(w);
          for (const name of Object.keys(get().flows)) if (!running.has(name)) update(name, (m) => ({ ...m, watching: false }));
        } catch {
          /* the list is advisory; events keep the state current */
        }
      },
      onChange(e) {
        update(e.flow, (m) => {
          // A catch-up is one event for many rows: its rows count, under "caught up".
          const totals = e.catchUp
            ? { ...m.totals, 'caught up': (m.totals['caught up'] ?? 0) + e.catchUp.rows }
            : { ...m.totals, [e.outcome]: (m.totals[e.outcome] ?? 0) + 1 };
          const series = addToSeries(m.series, e);
          if (get().paused) return { ...m, totals, series, held: [e, ...m.held].slice(0, FEED_MAX) };
          return { ...m, totals, series, feed: [e, ...m.feed].slice(0, FEED_MAX) };
        });
      },
      onListener(s) {
        update(s.flow, (m) => ({
          ...m,
          status: s,
          watching: s.state !== 'stopped' && s.state !== 'failed', // a failed watch has ended (the manager dropped it)
          statusLog: [s, ...m.statusLog].slice(0, 100),
        }));
      },
      setPaused(paused) {
        set({ paused });
        if (!paused) {
          const flows: Record<string, FlowMonitor> = {};
          for (const [k, m] of Object.entries(get().flows)) flows[k] = { ...m, feed: [...m.held, ...m.feed].slice(0, FEED_MAX), held: [] };
          set({ flows });
        }
      },
      setFilterText: (filterText) => set({ filterText }),
      setOpFilter: (opFilter) => set({ opFilter }),
      throughput(flow, nowMs = Date.now()) {
        // By the clock, not the last buckets: after Stop watching the rate must fall to 0, not keep
        // the last ten seconds that had events.
        const now = Math.floor(nowMs / 1000);
        const recent = (get().flows[flow]?.series ?? []).filter((b) => b.t > now - RATE_SECONDS && b.t <= now);
        const count = recent.reduce((a, b) => a + b.count, 0);
        const n = recent.reduce((a, b) => a + b.latencyN, 0);
        const sum = recent.reduce((a, b) => a + b.latencySum, 0);
        return { perSecond: count / RATE_SECONDS, avgLatencyMs: n ? sum / n : null };
      },
      visibleFeed(flow) {
        const m = get().flows[flow];
        if (!m) return [];
        const { filterText, opFilter } = get();
        const q = filterText.trim().toLowerCase();
        return m.feed.filter((e) => {
          if (opFilter === 'failed' ? e.outcome !== 'failed' : opFilter !== 'all' && e.op !== opFilter) return false;
          if (!q) return true;
          return JSON.stringify(e.key).toLowerCase().includes(q) || e.outcome.includes(q) || e.op.includes(q);
        });
      },
    };
  });
}
export type MonitorStore = ReturnType<typeof createMonitorStore>;
