/** Saved flows: the list, loading one into the editor, save (with the rename warning), remove, drop. */
import { createStore } from 'zustand/vanilla';
import { errorMessage, type ApiClient } from '../api/client';
import type { DropResult, Flow, FlowInput, FlowSummary } from '../api/types';

export interface EditorSeed {
  /** The saved name the editor opened (null: a new flow). Saving under another name is a rename. */
  originalName: string | null;
  flow: FlowInput | null;
  /** For a new flow: the source table it starts from. */
  from?: { connectionId: string; schema: string; table: string };
  seq: number;
}

export interface FlowsState {
  list: FlowSummary[];
  loaded: boolean;
  error: string | null;
  editor: EditorSeed;
  dropping: string | null;
  lastDrop: DropResult | null;
  load(): Promise<void>;
  newFrom(from: { connectionId: string; schema: string; table: string }): void;
  edit(name: string): Promise<void>;
  save(flow: FlowInput, opts?: { removePrevious?: boolean; overwrite?: boolean }): Promise<{ flow: Flow; renamedFrom?: string; warnings: string[] }>;
  remove(name: string): Promise<void>;
  drop(name: string): Promise<DropResult>;
  summary(name: string): FlowSummary | undefined;
}

export function createFlowsStore(api: ApiClient) {
  return createStore<FlowsState>()((set, get) => ({
    list: [],
    loaded: false,
    error: null,
    editor: { originalName: null, flow: null, seq: 0 },
    dropping: null,
    lastDrop: null,
    async load() {
      try {
        const list = await api.call('flows.list', {});
        list.sort((a, b) => a.name.localeCompare(b.name));
        set({ list, loaded: true, error: null });
      } catch (e) {
        set({ loaded: true, error: errorMessage(e) });
      }
    },
    newFrom(from) {
      set({ editor: { originalName: null, flow: null, from, seq: get().editor.seq + 1 } });
    },
    async edit(name) {
      const saved = await api.call('flows.get', { name });
      set({ editor: { originalName: name, flow: saved.flow, seq: get().editor.seq + 1 } });
    },
    async save(flow, opts = {}) {
      const originalName = get().editor.originalName;
      const r = await api.call('flows.save', {
        flow: flow as Flow,
        ...(originalName ? { previousName: originalName } : {}),
        removePrevious: opts.removePrevious ?? false,
        overwrite: opts.overwrite ?? false,
      });
      set({ editor: { ...get().editor, originalName: r.flow.name, flow: r.flow } });
      await get().load();
      return r;
    },
    async remove(name) {
      await api.call('flows.remove', { name });
      await get().load();
    },
    async drop(name) {
      set({ dropping: name });
      try {
        const r = await api.call('flows.drop', { name });
        set({ lastDrop: r });
        await get().load();
        return r;
      } finally {
        set({ dropping: null });
      }
    },
    summary(name) {
      return get().list.find((f) => f.name === name);
    },
  }));
}
export type FlowsStore = ReturnType<typeof createFlowsStore>;
