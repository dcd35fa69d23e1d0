/** The explorer tree of one connection: schemas, their tables (loaded on expand), the selection. */
import { createStore } from 'zustand/vanilla';
import { errorMessage, type ApiClient } from '../api/client';
import type { TableDescription, TableInfo } from '../api/types';

export interface SchemaNode { loading: boolean; error: string | null; tables: TableInfo[] | null }
export interface TableRef { schema: string; table: string }

export interface CatalogState {
  connectionId: string | null;
  schemas: string[] | null;
  loading: boolean;
  error: string | null;
  nodes: Record<string, SchemaNode>;
  expanded: Record<string, boolean>;
  selected: TableRef | null;
  descriptions: Record<string, TableDescription>;
  search: string;
  /** Show this connection's tree; `force` reloads it even when it is the one shown (its settings changed). */
  open(connectionId: string, opts?: { force?: boolean }): Promise<void>;
  /** The first table the search finds, in tree order (what Enter in the search box opens). */
  firstMatch(): TableRef | null;
  refresh(): Promise<void>;
  toggle(schema: string): Promise<void>;
  select(ref: TableRef | null): void;
  describe(ref: TableRef): Promise<TableDescription>;
  setSearch(s: string): void;
}

export const tableKey = (r: TableRef) => `${r.schema}\u0000${r.table}`;

export function createCatalogStore(api: ApiClient) {
  return createStore<CatalogState>()((set, get) => {
    const loadTables = async (schema: string) => {
      const cid = get().connectionId;
      if (!cid) return;
      set({ nodes: { ...get().nodes, [schema]: { loading: true, error: null, tables: get().nodes[schema]?.tables ?? null } } });
      try {
        const tables = await api.call('catalog.tables', { connectionId: cid, schema });
        if (get().connectionId !== cid) return;
        tables.sort((a, b) => a.name.localeCompare(b.name));
        set({ nodes: { ...get().nodes, [schema]: { loading: false, error: null, tables } } });
      } catch (e) {
        if (get().connectionId !== cid) return;
        set({ nodes: { ...get().nodes, [schema]: { loading: false, error: errorMessage(e), tables: null } } });
      }
    };
    return {
      connectionId: null,
      schemas: null,
      loading: false,
      error: null,
      nodes: {},
      expanded: {},
      selected: null,
      descriptions: {},
      search: '',
      async open(connectionId, opts = {}) {
        if (get().connectionId === connectionId && get().schemas && !opts.force) return;
        set({ connectionId, schemas: null, nodes: {}, expanded: {}, selected: null, descriptions: {}, loading: true, error: null });
        await get().refresh();
      },
      async refresh() {
        const cid = get().connectionId;
        if (!cid) return;
        set({ loading: true, error: null });
        try {
          const all = await api.call('catalog.schemas', { connectionId: cid });
          // System schemas (pg_catalog, information_schema) are noise in a sync tool's tree.
          const schemas = all.filter((x) => !x.isSystem).map((x) => x.name);
          if (get().connectionId !== cid) return;
          // Open the schemas the user is most likely to want: public, or the only one.
          const expanded: Record<string, boolean> = { ...get().expanded };
          if (Object.keys(expanded).length === 0) {
            const first = schemas.includes('public') ? 'public' : schemas[0];
            if (first) expanded[first] = true;
          }
          set({ schemas, loading: false, expanded });
          await Promise.all(Object.keys(expanded).filter((s) => expanded[s] && schemas.includes(s)).map(loadTables));
        } catch (e) {
          if (get().connectionId === cid) set({ loading: false, error: errorMessage(e) });
        }
      },
      async toggle(schema) {
        const open = !get().expanded[schema];
        set({ expanded: { ...get().expanded, [schema]: open } });
        if (open && !get().nodes[schema]?.tables) await loadTables(schema);
      },
      select(selected) {
        set({ selected });
      },
      async describe(ref) {
        const cached = get().descriptions[tableKey(ref)];
        if (cached) return cached;
        const cid = get().connectionId;
        if (!cid) throw new Error('No connection is open.');
        const d = await api.call('catalog.describe', { connectionId: cid, schema: ref.schema, table: ref.table });
        set({ descriptions: { ...get().descriptions, [tableKey(ref)]: d } });
        return d;
      },
      setSearch(search) {
        set({ search });
      },
      firstMatch() {
        const q = get().search.trim().toLowerCase();
        for (const schema of get().schemas ?? []) {
          const t = get().nodes[schema]?.tables?.find((x) => !q || x.name.toLowerCase().includes(q));
          if (t) return { schema, table: t.name };
        }
        return null;
      },
    };
  });
}
export type CatalogStore = ReturnType<typeof createCatalogStore>;
