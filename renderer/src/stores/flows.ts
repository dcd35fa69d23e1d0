/** Saved flows: the list, loading one into the editor, save (with the rename warning), remove, drop. */
import { createStore } from 'zustand/vanilla';
import { errorMessage, type ApiClient } from '../api/client';
import type { DemoStatus, DropResult, Flow, FlowInput, FlowSummary, PlanStep, SavedConnection, TableDescription } from '../api/types';
import { connectionOfRef, formFromFlow, formFromTable, type FlowForm } from '../lib/flow-draft';

export interface EditorSeed {
  /** The saved name the editor opened (null: a new flow). Saving under another name is a rename. */
  originalName: string | null;
  flow: FlowInput | null;
  /** For a new flow: the source table it starts from, and the filter the user had applied to it. */
  from?: { connectionId: string; schema: string; table: string; filter?: string | null };
  seq: number;
}

/** The flow setup form as prepared for one editor opening (`seq`): its values and the source's columns. */
export interface PreparedEditor {
  seq: number;
  initial: FlowForm | null;
  desc: TableDescription | null;
  error: string | null;
}

/** The drop dialog: the steps a drop would run (each with its SQL), before the user confirms. */
export interface DropReview {
  name: string;
  steps: PlanStep[] | null;
  error: string | null;
}

export interface FlowsState {
  list: FlowSummary[];
  loaded: boolean;
  error: string | null;
  editor: EditorSeed;
  dropping: string | null;
  lastDrop: DropResult | null;
  dropReview: DropReview | null;
  prepared: PreparedEditor | null;
  load(): Promise<void>;
  /**
   * Read the source table and make the form's first values for the editor's current opening: a
   * saved flow as it is, or a new flow from a table (with the filter the user had applied), whose
   * target is the demo's pgvector target when it starts from the demo source, else the source itself.
   */
  prepareEditor(connections: SavedConnection[], demo: DemoStatus | null): Promise<void>;
  /** Open the drop dialog for a flow and load the steps a drop would run. */
  reviewDrop(name: string): Promise<void>;
  closeDropReview(): void;
  newFrom(from: { connectionId: string; schema: string; table: string; filter?: string | null }): void;
  edit(name: string): Promise<void>;
  save(flow: FlowInput, opts?: { removePrevious?: boolean; overwrite?: boolean }): Promise<{ flow: Flow; renamedFrom?: string; warnings: string[] }>;
  remove(name: string): Promise<void>;
  /** Drop; `allowDestructive` after the user saw the destructive steps (the dialog's confirm). */
  drop(name: string, opts?: { allowDestructive?: boolean; cascade?: boolean }): Promise<DropResult>;
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
    dropReview: null,
    prepared: null,
    async prepareEditor(connections, demo) {
      const editor = get().editor;
      const seq = editor.seq;
      set({ prepared: { seq, initial: null, desc: null, error: null } });
      const done = (p: Omit<PreparedEditor, 'seq'>) => {
        if (get().editor.seq === seq) set({ prepared: { seq, ...p } });
      };
      try {
        if (editor.flow) {
          const src = connectionOfRef(editor.flow.source.connection, connections);
          const desc = src
            ? await api.call('catalog.describe', { connectionId: src.id, schema: editor.flow.source.schema ?? 'public', table: editor.flow.source.table }).catch(() => null)
            : null;
          done({ initial: formFromFlow(editor.flow, desc, connections), desc, error: null });
        } else if (editor.from) {
          const from = editor.from;
          const desc = await api.call('catalog.describe', { connectionId: from.connectionId, schema: from.schema, table: from.table });
          const src = connections.find((c) => c.id === from.connectionId);
          if (!src) throw new Error('The source connection is no longer saved.');
          const demoTarget = demo && demo.sourceConnectionId === src.id ? connections.find((c) => c.id === demo.targetConnectionId) : undefined;
          done({ initial: formFromTable(desc, src, demoTarget ?? src, connections, from.filter ?? null), desc, error: null });
        }
      } catch (e) {
        done({ initial: null, desc: null, error: errorMessage(e) });
      }
    },
    async reviewDrop(name) {
      set({ dropReview: { name, steps: null, error: null } });
      try {
        const r = await api.call('flows.dropPreview', { name });
        if (get().dropReview?.name === name) set({ dropReview: { name, steps: r.steps, error: null } });
      } catch (e) {
        if (get().dropReview?.name === name) set({ dropReview: { name, steps: null, error: errorMessage(e) } });
      }
    },
    closeDropReview() {
      set({ dropReview: null });
    },
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
    async drop(name, opts = {}) {
      set({ dropping: name });
      try {
        const r = await api.call('flows.drop', { name, allowDestructive: opts.allowDestructive ?? false, cascade: opts.cascade ?? false });
        set({ lastDrop: r, dropReview: null });
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
