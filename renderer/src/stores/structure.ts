/** The Structure tab's data: one table's structure at a time, kept per table until reloaded. */
import { createStore } from 'zustand/vanilla';
import { errorMessage, type ApiClient } from '../api/client';
import type { TableStructure } from '../api/types';

export interface StructureRef { connectionId: string; schema: string; table: string }

export interface StructureState {
  ref: StructureRef | null;
  loading: boolean;
  error: string | null;
  data: TableStructure | null;
  cache: Record<string, TableStructure>;
  /** Load (from the cache unless `reload`) the structure of a table. */
  load(ref: StructureRef, reload?: boolean): Promise<void>;
}

export const structureKey = (r: StructureRef) => `${r.connectionId}\u0000${r.schema}\u0000${r.table}`;

export function createStructureStore(api: ApiClient) {
  return createStore<StructureState>()((set, get) => ({
    ref: null,
    loading: false,
    error: null,
    data: null,
    cache: {},
    async load(ref, reload = false) {
      const key = structureKey(ref);
      const cached = get().cache[key];
      if (cached && !reload) {
        set({ ref, data: cached, error: null, loading: false });
        return;
      }
      set({ ref, loading: true, error: null, data: reload ? get().data : null });
      try {
        const data = await api.call('inspect.structure', ref);
        if (get().ref !== ref) return;
        set({ data, loading: false, cache: { ...get().cache, [key]: data } });
      } catch (e) {
        if (get().ref !== ref) return;
        set({ loading: false, error: errorMessage(e), data: null });
      }
    },
  }));
}
export type StructureStore = ReturnType<typeof createStructureStore>;
