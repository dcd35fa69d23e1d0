/**
 * The tree's other objects: a schema's sequences and functions (loaded when its group is opened)
 * and the other databases of the active connection's server.
 */
import { createStore } from 'zustand/vanilla';
import { errorMessage, type ApiClient } from '../api/client';
import type { DatabaseInfo, SchemaObjects } from '../api/types';

export interface Loaded<T> { loading: boolean; error: string | null; data: T | null }

export interface ObjectsState {
  connectionId: string | null;
  schemas: Record<string, Loaded<SchemaObjects>>;
  /** Open groups, `schema\0sequences` / `schema\0functions`, and `databases`. */
  open: Record<string, boolean>;
  databases: Loaded<DatabaseInfo[]>;
  reset(connectionId: string | null): void;
  toggle(group: string, schema?: string): Promise<void>;
  loadSchema(schema: string): Promise<void>;
  loadDatabases(): Promise<void>;
  /** A saved connection to another database of this server (made once), to switch to. */
  connectionFor(database: string): Promise<string>;
}

const none = <T,>(): Loaded<T> => ({ loading: false, error: null, data: null });

export function createObjectsStore(api: ApiClient) {
  return createStore<ObjectsState>()((set, get) => ({
    connectionId: null,
    schemas: {},
    open: {},
    databases: none(),
    reset(connectionId) {
      if (get().connectionId === connectionId) return;
      set({ connectionId, schemas: {}, open: {}, databases: none() });
    },
    async toggle(group, schema) {
      const key = schema === undefined ? group : `${schema}\u0000${group}`;
      const open = !get().open[key];
      set({ open: { ...get().open, [key]: open } });
      if (!open) return;
      if (schema !== undefined && !get().schemas[schema]?.data) await get().loadSchema(schema);
      if (group === 'databases' && !get().databases.data) await get().loadDatabases();
    },
    async loadSchema(schema) {
      const cid = get().connectionId;
      if (!cid) return;
      set({ schemas: { ...get().schemas, [schema]: { loading: true, error: null, data: get().schemas[schema]?.data ?? null } } });
      try {
        const data = await api.call('catalog.objects', { connectionId: cid, schema });
        if (get().connectionId === cid) set({ schemas: { ...get().schemas, [schema]: { loading: false, error: null, data } } });
      } catch (e) {
        if (get().connectionId === cid) set({ schemas: { ...get().schemas, [schema]: { loading: false, error: errorMessage(e), data: null } } });
      }
    },
    async loadDatabases() {
      const cid = get().connectionId;
      if (!cid) return;
      set({ databases: { loading: true, error: null, data: get().databases.data } });
      try {
        const data = await api.call('catalog.databases', { connectionId: cid });
        if (get().connectionId === cid) set({ databases: { loading: false, error: null, data } });
      } catch (e) {
        if (get().connectionId === cid) set({ databases: { loading: false, error: errorMessage(e), data: null } });
      }
    },
    async connectionFor(database) {
      const cid = get().connectionId;
      if (!cid) throw new Error('No connection is open.');
      const saved = await api.call('connections.forDatabase', { id: cid, database });
      return saved.id;
    },
  }));
}
export type ObjectsStore = ReturnType<typeof createObjectsStore>;
