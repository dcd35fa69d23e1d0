/** The stores of one window, created once and handed down by context (tests create their own). */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { StoreApi } from 'zustand/vanilla';
import type { ApiClient } from './api/client';
import { createUiStore } from './stores/ui';
import { createConnectionsStore } from './stores/connections';
import { createCatalogStore } from './stores/catalog';
import { createBrowseStore } from './stores/browse';
import { createFilterStore } from './stores/filter';
import { createFlowsStore } from './stores/flows';
import { createPlanStore } from './stores/plan';
import { createMonitorStore } from './stores/monitor';
import { createStructureStore } from './stores/structure';
import { createObjectsStore } from './stores/objects';
import { createConsoleStore, type KeyValueStorage } from './stores/console';
import { createExportsStore } from './stores/exports';
import { createSetsStore } from './stores/sets';

export function createAppStores(api: ApiClient, theme: 'light' | 'dark', storage?: KeyValueStorage) {
  return {
    api,
    ui: createUiStore({ theme }),
    connections: createConnectionsStore(api),
    catalog: createCatalogStore(api),
    browse: createBrowseStore(api),
    filter: createFilterStore(api),
    flows: createFlowsStore(api),
    plan: createPlanStore(api),
    monitor: createMonitorStore(api),
    structure: createStructureStore(api),
    objects: createObjectsStore(api),
    console: createConsoleStore(api, storage),
    exports: createExportsStore(api),
    sets: createSetsStore(api),
  };
}
export type AppStores = ReturnType<typeof createAppStores>;

export const AppContext = createContext<AppStores | null>(null);

export function useApp(): AppStores {
  const s = useContext(AppContext);
  if (!s) throw new Error('AppContext missing');
  return s;
}

/** Subscribe a component to a slice of a store. */
export function useS<T, U>(store: StoreApi<T>, selector: (s: T) => U): U {
  return useStore(store, selector);
}
