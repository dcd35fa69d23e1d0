/** Saved connections: list, save (URL or fields), test, remove, the active one, and the demo. */
import { createStore } from 'zustand/vanilla';
import { errorMessage, type ApiClient } from '../api/client';
import type { AppInfo, ConnectionDraft, ConnectionTestResult, DemoStatus, SavedConnection } from '../api/types';

export interface TestState { running: boolean; result?: ConnectionTestResult }

export interface ConnectionsState {
  list: SavedConnection[];
  loaded: boolean;
  error: string | null;
  activeId: string | null;
  /** Test results by connection id, and `draft` for the form being edited. */
  tests: Record<string, TestState>;
  app: AppInfo | null;
  demo: DemoStatus | null;
  demoError: string | null;
  /** Bumped each time a connection is saved: the explorer reloads a tree whose settings changed. */
  revisions: Record<string, number>;
  load(): Promise<void>;
  /** Forget the connection form's test result (the form opened or closed: a new form starts clean). */
  clearDraftTest(): void;
  save(input: { id?: string; name: string; connection: ConnectionDraft }): Promise<SavedConnection>;
  remove(id: string): Promise<void>;
  test(target: { id: string } | { connection: ConnectionDraft; id?: string }, slot?: string): Promise<ConnectionTestResult>;
  select(id: string | null): void;
  startDemo(): Promise<void>;
}

export function createConnectionsStore(api: ApiClient) {
  return createStore<ConnectionsState>()((set, get) => ({
    list: [],
    loaded: false,
    error: null,
    activeId: null,
    tests: {},
    app: null,
    demo: null,
    demoError: null,
    revisions: {},
    clearDraftTest() {
      if (!get().tests['draft']) return;
      const tests = { ...get().tests };
      delete tests['draft'];
      set({ tests });
    },
    async load() {
      try {
        const [list, app, demo] = await Promise.all([
          api.call('connections.list', {}),
          get().app ? Promise.resolve(get().app!) : api.call('app.info', {}).catch(() => null),
          api.call('demo.status', {}).catch(() => null),
        ]);
        const activeId = get().activeId && list.some((c) => c.id === get().activeId) ? get().activeId : (list[0]?.id ?? null);
        set({ list, app, demo, loaded: true, error: null, activeId });
      } catch (e) {
        set({ loaded: true, error: errorMessage(e) });
      }
    },
    async save(input) {
      const saved = await api.call('connections.save', input);
      const others = get().list.filter((c) => c.id !== saved.id);
      const list = [...others, saved].sort((a, b) => a.name.localeCompare(b.name));
      // The form's test result now belongs to the saved connection's card.
      const draft = get().tests['draft'];
      const tests = { ...get().tests };
      delete tests['draft'];
      if (draft?.result) tests[saved.id] = draft;
      const revisions = { ...get().revisions, [saved.id]: (get().revisions[saved.id] ?? 0) + 1 };
      set({ list, tests, revisions, activeId: get().activeId ?? saved.id });
      return saved;
    },
    async remove(id) {
      await api.call('connections.remove', { id });
      const list = get().list.filter((c) => c.id !== id);
      set({ list, activeId: get().activeId === id ? (list[0]?.id ?? null) : get().activeId });
    },
    async test(target, slot) {
      const key = slot ?? ('id' in target && target.id && !('connection' in target) ? target.id : 'draft');
      set({ tests: { ...get().tests, [key]: { running: true } } });
      let result: ConnectionTestResult;
      try {
        result = await api.call('connections.test', target);
      } catch (e) {
        result = { ok: false, error: { code: 'CONNECTION_FAILED', message: errorMessage(e) } };
      }
      set({ tests: { ...get().tests, [key]: { running: false, result } } });
      return result;
    },
    select(id) {
      set({ activeId: id });
    },
    async startDemo() {
      set({ demoError: null, demo: get().demo ? { ...get().demo!, state: 'starting' } : null });
      try {
        const demo = await api.call('demo.start', {});
        set({ demo });
        await get().load();
        if (demo.sourceConnectionId) set({ activeId: demo.sourceConnectionId });
      } catch (e) {
        set({ demoError: errorMessage(e) });
      }
    },
  }));
}
export type ConnectionsStore = ReturnType<typeof createConnectionsStore>;
