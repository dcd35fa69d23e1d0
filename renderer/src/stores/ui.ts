/** Where the window is (view), its theme, overlays and toasts. No data from the engine lives here. */
import { createStore } from 'zustand/vanilla';

export type View =
  | { name: 'connections' }
  | { name: 'table' }
  | { name: 'flows' }
  | { name: 'sets' }
  | { name: 'flow-edit' }
  | { name: 'plan'; flow: string }
  | { name: 'monitor'; flow?: string; set?: string };

export type Theme = 'light' | 'dark';
/** The tabs beside a table's rows. */
export type TableTab = 'rows' | 'structure' | 'sql';
export interface Toast { id: number; kind: 'ok' | 'error' | 'info'; text: string }

export interface UiState {
  view: View;
  theme: Theme;
  shortcutsOpen: boolean;
  tableTab: TableTab;
  toasts: Toast[];
  go(view: View): void;
  setTheme(t: Theme): void;
  toggleTheme(): void;
  setShortcutsOpen(open: boolean): void;
  setTableTab(tab: TableTab): void;
  toast(kind: Toast['kind'], text: string, ttlMs?: number): void;
  dismiss(id: number): void;
}

export function createUiStore(initial: Partial<Pick<UiState, 'theme' | 'view'>> = {}) {
  let nextToast = 1;
  return createStore<UiState>()((set, get) => ({
    view: initial.view ?? { name: 'connections' },
    theme: initial.theme ?? 'light',
    shortcutsOpen: false,
    tableTab: 'rows',
    toasts: [],
    go: (view) => set({ view }),
    setTheme: (theme) => set({ theme }),
    toggleTheme: () => set({ theme: get().theme === 'light' ? 'dark' : 'light' }),
    setShortcutsOpen: (shortcutsOpen) => set({ shortcutsOpen }),
    setTableTab: (tableTab) => set({ tableTab }),
    toast: (kind, text, ttlMs = 3500) => {
      const id = nextToast++;
      // The same message again replaces the old one instead of stacking up.
      set({ toasts: [...get().toasts.filter((t) => t.text !== text).slice(-3), { id, kind, text }] });
      if (ttlMs > 0) setTimeout(() => get().dismiss(id), ttlMs);
    },
    dismiss: (id) => set({ toasts: get().toasts.filter((t) => t.id !== id) }),
  }));
}
export type UiStore = ReturnType<typeof createUiStore>;
