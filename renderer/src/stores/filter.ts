/**
 * The filter editor's state: the text as typed, validated against the server as you type (debounced,
 * and only the latest answer counts), with PostgreSQL's message and position, and the count of
 * matching rows. Applying hands the text to whoever listens (the grid).
 */
import { createStore } from 'zustand/vanilla';
import { errorMessage, newRequestId, type ApiClient } from '../api/client';

export type FilterStatus = 'empty' | 'pending' | 'checking' | 'valid' | 'invalid' | 'error';

export interface FilterTarget { connectionId: string; schema: string; table: string }

export interface FilterState {
  target: FilterTarget | null;
  text: string;
  status: FilterStatus;
  message: string | null;
  /** 1-based character position of the error in `text`, when PostgreSQL gave one. */
  position: number | null;
  count: number | null;
  countTimedOut: boolean;
  /** Live changes arrived for the table since `count` was taken (validate again to refresh it). */
  countStale: boolean;
  /** The text of the filter the grid shows now (null: none). */
  applied: string | null;
  setTarget(t: FilterTarget | null, text?: string): void;
  setText(text: string): void;
  validateNow(): Promise<void>;
  /** Applies the text when it is valid (or empty); returns whether it did. */
  apply(): Promise<boolean>;
  clear(): Promise<void>;
  /** Live changes touched the target table: the count may be off. */
  markStale(): void;
  onApply(cb: (filter: string | null) => void | Promise<void>): () => void;
  /**
   * The exact matching count this editor holds for `filter` (its text, checked and counted, not
   * stale), else null: the grid takes it as its own count, so the screen shows one number.
   */
  countOf(filter: string | null): number | null;
}

export function createFilterStore(api: ApiClient, opts: { debounceMs?: number } = {}) {
  const debounceMs = opts.debounceMs ?? 350;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let seq = 0;
  let inflightId: string | null = null;
  const listeners = new Set<(f: string | null) => void | Promise<void>>();

  return createStore<FilterState>()((set, get) => ({
    target: null,
    text: '',
    status: 'empty',
    message: null,
    position: null,
    count: null,
    countTimedOut: false,
    countStale: false,
    applied: null,
    setTarget(target, text = '') {
      if (timer) clearTimeout(timer);
      seq += 1;
      set({ target, text, applied: text.trim() || null, status: text.trim() ? 'pending' : 'empty', message: null, position: null, count: null, countTimedOut: false, countStale: false });
      if (text.trim()) void get().validateNow();
    },
    setText(text) {
      if (text === get().text) return;
      if (timer) clearTimeout(timer);
      seq += 1; // any answer still on its way is about older text
      if (!text.trim()) {
        set({ text, status: 'empty', message: null, position: null, count: null, countTimedOut: false, countStale: false });
        return;
      }
      set({ text, status: 'pending' });
      timer = setTimeout(() => {
        timer = null;
        void get().validateNow();
      }, debounceMs);
    },
    async validateNow() {
      const { target, text } = get();
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      if (!target || !text.trim()) return;
      const mine = ++seq;
      // A count still running for older text is wasted work on the server: cancel it.
      if (inflightId) void api.call('query.cancel', { requestId: inflightId }).catch(() => null);
      const requestId = newRequestId('filter');
      inflightId = requestId;
      set({ status: 'checking' });
      try {
        const r = await api.call('filter.validate', { ...target, filter: text, count: true, requestId });
        if (mine !== seq) return;
        if (r.valid) set({ status: 'valid', message: null, position: null, count: r.count, countTimedOut: r.countTimedOut ?? false, countStale: false });
        else set({ status: 'invalid', message: r.message, position: r.position ?? null, count: null, countTimedOut: false, countStale: false });
      } catch (e) {
        if (mine !== seq) return;
        set({ status: 'error', message: errorMessage(e), position: null, count: null });
      } finally {
        if (inflightId === requestId) inflightId = null;
      }
    },
    async apply() {
      const s = get();
      const text = s.text.trim();
      if (text && s.status !== 'valid') {
        await get().validateNow();
        if (get().status !== 'valid') return false;
      }
      const f = text || null;
      set({ applied: f });
      await Promise.all([...listeners].map((cb) => cb(f)));
      return true;
    },
    async clear() {
      get().setText('');
      set({ applied: null });
      await Promise.all([...listeners].map((cb) => cb(null)));
    },
    countOf(filter) {
      const s = get();
      return filter !== null && s.status === 'valid' && !s.countStale && s.text.trim() === filter.trim() ? s.count : null;
    },
    markStale() {
      if (get().count !== null && !get().countStale) set({ countStale: true });
    },
    onApply(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
  }));
}
export type FilterStore = ReturnType<typeof createFilterStore>;
