/**
 * The SQL console of the active connection: the statement being edited, the writes switch (per
 * connection, off by default, never remembered across restarts), the history (per connection,
 * kept in the browser's storage), the confirm step before a write runs, and the result as a
 * bounded window of cursor pages that the virtualized grid reads like the table browser's.
 */
import { createStore } from 'zustand/vanilla';
import { errorCode, errorMessage, newRequestId, type ApiClient } from '../api/client';
import type { Cell, CompletionSchema, ConsoleResult, SortSpec } from '../api/types';
import { CONSOLE_HISTORY_MAX, CONSOLE_PAGE_ROWS } from '../../../core/api/contract.console';

/** Pages of CONSOLE_PAGE_ROWS the window holds; reading past an edge drops one from the other. */
export const CONSOLE_MAX_PAGES = 5;

export type RunMode = 'run' | 'plan' | 'analyze';
export interface HistoryEntry { sql: string; at: string; ok: boolean; summary: string }
/** Where history is kept (localStorage in the app; a map in tests). */
export interface KeyValueStorage { getItem(k: string): string | null; setItem(k: string, v: string): void }

export interface ConsoleState {
  connectionId: string | null;
  text: string;
  /** Text selected in the editor: run instead of the whole text when present. */
  selection: string;
  /** Connection id → writes allowed. */
  writes: Record<string, boolean>;
  history: HistoryEntry[];
  running: RunMode | null;
  requestId: string | null;
  /** A write waiting for the user to confirm the statement. */
  confirm: { sql: string } | null;
  error: { message: string; position: number | null; readOnly: boolean } | null;
  result: Omit<ConsoleResult, 'rows'> | null;
  /** The statement the shown result came from (what an export runs again). */
  resultSql: string | null;
  completions: CompletionSchema | null;

  // the grid's window (GridSource)
  target: { connectionId: string; schema: string; table: string } | null;
  columns: Array<{ name: string; type: string; keyPosition: number | null }>;
  hidden: string[];
  rows: Cell[][];
  rowKeys: string[];
  flash: Record<string, number>;
  shift: { rows: number; seq: number };
  scrollTo: { where: 'top' | 'bottom'; seq: number };
  loading: 'next' | 'prev' | null;
  nextCursor: number | null;
  prevCursor: number | null;
  firstIndex: number | null;
  fromEnd: number | null;
  exact: number | null;
  sort: SortSpec[];
  pageError: string | null;

  open(connectionId: string): void;
  setText(t: string): void;
  setSelection(t: string): void;
  setWrites(on: boolean): void;
  /** Run / EXPLAIN the statement; with writes allowed, `run` first asks for confirmation. */
  request(mode: RunMode): Promise<void>;
  confirmRun(): Promise<void>;
  cancelConfirm(): void;
  cancel(): Promise<void>;
  useHistory(entry: HistoryEntry): void;
  clearHistory(): void;
  loadNext(): Promise<void>;
  loadPrev(): Promise<void>;
  cycleSort(column: string): Promise<void>;
}

const historyKey = (id: string) => `tablesync.console.history.${id}`;

export function createConsoleStore(api: ApiClient, storage?: KeyValueStorage) {
  const windowId = newRequestId('console');
  const consoleIdFor = (cid: string) => `${windowId}:${cid}`;
  const readHistory = (cid: string): HistoryEntry[] => {
    try {
      const raw = storage?.getItem(historyKey(cid));
      return raw ? (JSON.parse(raw) as HistoryEntry[]).slice(0, CONSOLE_HISTORY_MAX) : [];
    } catch {
      return [];
    }
  };
  return createStore<ConsoleState>()((set, get) => {
    const remember = (sql: string, ok: boolean, summary: string) => {
      const cid = get().connectionId;
      if (!cid) return;
      const prev = get().history.filter((h) => h.sql !== sql);
      const history = [{ sql, at: new Date().toISOString(), ok, summary }, ...prev].slice(0, CONSOLE_HISTORY_MAX);
      set({ history });
      try {
        storage?.setItem(historyKey(cid), JSON.stringify(history));
      } catch {
        /* storage full or refused: history stays for this session */
      }
    };
    const statement = () => (get().selection.trim() ? get().selection : get().text).trim();

    const execute = async (mode: RunMode, sql: string) => {
      const cid = get().connectionId;
      if (!cid || !sql) return;
      const requestId = newRequestId('sql');
      set({ running: mode, requestId, error: null, confirm: null });
      try {
        const r = await api.call('console.run', {
          connectionId: cid,
          consoleId: consoleIdFor(cid),
          sql,
          allowWrites: !!get().writes[cid],
          ...(mode === 'run' ? {} : { explain: mode }),
          limit: CONSOLE_PAGE_ROWS,
          requestId,
        });
        if (get().connectionId !== cid) return;
        const { rows, ...meta } = r;
        set({
          running: null, requestId: null, result: meta, resultSql: sql, pageError: null,
          target: { connectionId: cid, schema: '(console)', table: r.resultId },
          columns: r.columns.map((c) => ({ name: c.name, type: c.type, keyPosition: null })),
          rows, rowKeys: rows.map((_, i) => String(i)), firstIndex: 0,
          nextCursor: r.done ? null : rows.length, prevCursor: null,
          exact: r.rowCount, scrollTo: { where: 'top', seq: get().scrollTo.seq + 1 },
        });
        remember(sql, true, mode !== 'run' ? `EXPLAIN${mode === 'analyze' ? ' ANALYZE' : ''}` : summarize(r));
      } catch (e) {
        if (get().connectionId !== cid) return;
        const cancelled = errorCode(e) === 'CANCELLED';
        const detail = (e as { detail?: Record<string, unknown> }).detail;
        const pos = Number(detail?.['position']);
        set({
          running: null, requestId: null,
          error: { message: cancelled ? 'Cancelled.' : errorMessage(e), position: Number.isFinite(pos) && pos > 0 ? pos : null, readOnly: detail?.['readOnly'] === true },
        });
        remember(sql, false, cancelled ? 'cancelled' : errorMessage(e).slice(0, 120));
      }
    };

    const fetchPage = async (dir: 'next' | 'prev') => {
      const s = get();
      const cid = s.connectionId;
      if (!cid || !s.result || s.loading || s.firstIndex === null) return;
      const offset = dir === 'next' ? s.nextCursor : s.prevCursor;
      if (offset === null) return;
      // A page before the window ends where the window starts (the window need not start on a page boundary).
      const limit = dir === 'prev' ? s.firstIndex - offset : CONSOLE_PAGE_ROWS;
      if (limit <= 0) return;
      set({ loading: dir });
      try {
        const p = await api.call('console.fetch', { consoleId: consoleIdFor(cid), resultId: s.result.resultId, offset, limit });
        const cur = get();
        if (cur.result?.resultId !== s.result.resultId) return;
        let rows: Cell[][];
        let first: number;
        let shiftRows = 0;
        if (dir === 'next') {
          rows = [...cur.rows, ...p.rows];
          first = cur.firstIndex!;
          const over = rows.length - CONSOLE_MAX_PAGES * CONSOLE_PAGE_ROWS;
          if (over > 0) {
            rows = rows.slice(over);
            first += over;
            shiftRows = over;
          }
        } else {
          rows = [...p.rows, ...cur.rows];
          first = offset;
          shiftRows = -p.rows.length;
          const over = rows.length - CONSOLE_MAX_PAGES * CONSOLE_PAGE_ROWS;
          if (over > 0) rows = rows.slice(0, rows.length - over);
        }
        const end = first + rows.length;
        const total = p.rowCount ?? cur.exact;
        set({
          loading: null, rows, firstIndex: first, rowKeys: rows.map((_, i) => String(first + i)),
          exact: total,
          nextCursor: total !== null && end >= total ? null : end,
          prevCursor: first > 0 ? Math.max(0, first - CONSOLE_PAGE_ROWS) : null,
          shift: shiftRows !== 0 ? { rows: shiftRows, seq: cur.shift.seq + 1 } : cur.shift,
        });
      } catch (e) {
        set({ loading: null, pageError: errorMessage(e), nextCursor: null, prevCursor: null });
      }
    };

    return {
      connectionId: null,
      text: '',
      selection: '',
      writes: {},
      history: [],
      running: null,
      requestId: null,
      confirm: null,
      error: null,
      result: null,
      resultSql: null,
      completions: null,
      target: null,
      columns: [],
      hidden: [],
      rows: [],
      rowKeys: [],
      flash: {},
      shift: { rows: 0, seq: 0 },
      scrollTo: { where: 'top', seq: 0 },
      loading: null,
      nextCursor: null,
      prevCursor: null,
      firstIndex: null,
      fromEnd: null,
      exact: null,
      sort: [],
      pageError: null,

      open(connectionId) {
        if (get().connectionId === connectionId) return;
        set({
          connectionId, history: readHistory(connectionId), result: null, error: null, confirm: null, completions: null,
          target: null, columns: [], rows: [], rowKeys: [], firstIndex: null, nextCursor: null, prevCursor: null, exact: null,
        });
        void api.call('console.completions', { connectionId }).then(
          (c) => { if (get().connectionId === connectionId) set({ completions: c }); },
          () => {},
        );
      },
      setText: (text) => set({ text }),
      setSelection: (selection) => set({ selection }),
      setWrites(on) {
        const cid = get().connectionId;
        if (cid) set({ writes: { ...get().writes, [cid]: on } });
      },
      async request(mode) {
        const sql = statement();
        const cid = get().connectionId;
        if (!sql || !cid || get().running) return;
        if (mode === 'run' && get().writes[cid]) {
          set({ confirm: { sql } });
          return;
        }
        await execute(mode, sql);
      },
      async confirmRun() {
        const c = get().confirm;
        if (c) await execute('run', c.sql);
      },
      cancelConfirm: () => set({ confirm: null }),
      async cancel() {
        const id = get().requestId;
        if (id) await api.call('query.cancel', { requestId: id }).catch(() => {});
      },
      useHistory: (entry) => set({ text: entry.sql, selection: '' }),
      clearHistory() {
        const cid = get().connectionId;
        set({ history: [] });
        if (cid) storage?.setItem(historyKey(cid), '[]');
      },
      loadNext: () => fetchPage('next'),
      loadPrev: () => fetchPage('prev'),
      // Sorting a result is the statement's business (ORDER BY): header clicks do nothing here.
      cycleSort: async () => {},
    };
  });
}
export type ConsoleStore = ReturnType<typeof createConsoleStore>;

function summarize(r: ConsoleResult): string {
  if (r.columns.length === 0) return r.affected !== null ? `${r.command} ${r.affected}` : r.command;
  return r.done ? `${r.rowCount} rows` : `${r.rows.length}+ rows`;
}
