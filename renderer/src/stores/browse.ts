/**
 * The table browser's data: a bounded window of pages fetched by keyset (never OFFSET), so the first
 * page and the last page of a million-row table cost the same, and memory stays flat however far
 * the user scrolls. The window holds at most MAX_PAGES pages; loading past either edge drops a page
 * from the other edge and records the shift so the view can keep the rows under the pointer still.
 */
import { createStore } from 'zustand/vanilla';
import { errorCode, errorMessage, newRequestId, type ApiClient } from '../api/client';
import type { BrowseCursor, BrowseRowsInput, BrowseRowsOutput, Cell, SortSpec } from '../api/types';
import { GO_TO_KEY_COUNT_MS, MAX_SORT_COLUMNS } from '../../../core/api/contract';

export const PAGE_SIZE = 200;
export const MAX_PAGES = 5;
/** How long a row changed by a live flow stays highlighted. */
export const FLASH_MS = 2500;
/** Cells longer than this come cut from the server (the viewer fetches the whole one): keeps pages small. */
export const MAX_CELL_CHARS = 2000;

export interface BrowseTarget { connectionId: string; schema: string; table: string }
export type BrowseColumn = BrowseRowsOutput['columns'][number];
export interface PageInfo { size: number; prev: BrowseCursor | null; next: BrowseCursor | null }
type Loading = null | 'first' | 'next' | 'prev' | 'last' | 'refresh';

export interface BrowseState {
  target: BrowseTarget | null;
  columns: BrowseColumn[];
  keyColumns: string[];
  rows: Cell[][];
  /** Key of each row joined with NUL: matches live change events to rows. */
  rowKeys: string[];
  /** Row key → indexes of the columns whose cell the server cut to MAX_CELL_CHARS. */
  cut: Record<string, number[]>;
  /** The window's pages, oldest first, with the server's cursors, so whole pages can be dropped. */
  pages: PageInfo[];
  /** Absolute 0-based index of rows[0] when the window is anchored at the start; null after a jump to the end. */
  firstIndex: number | null;
  /** Rows from the end of the table to the window's last row (0 after a jump to the end), when anchored there. */
  fromEnd: number | null;
  /** Why the rows are not numbered after a go-to-key (its position was not counted), or null. */
  unnumbered: string | null;
  prevCursor: BrowseCursor | null;
  nextCursor: BrowseCursor | null;
  orderBy: string;
  /** The sort list, most significant first; [] for key order. */
  sort: SortSpec[];
  filter: string | null;
  /** Quick search over the visible columns (server-side ILIKE), '' for none. */
  search: string;
  hidden: string[];
  loading: Loading;
  requestId: string | null;
  error: string | null;
  estimate: number | null;
  exact: number | null;
  counting: boolean;
  countRequestId: string | null;
  countError: string | null;
  /** Live changes arrived for this table since `exact` was counted: it may be off (Recount). */
  countStale: boolean;
  /** Row key → time its flash started. */
  flash: Record<string, number>;
  /** Rows removed (+) from or added (−) to the top by the last load, for scroll anchoring; seq makes each one an event. */
  shift: { rows: number; seq: number };
  /** Where the view should scroll after a reset: seq makes each request an event. */
  scrollTo: { where: 'top' | 'bottom'; seq: number };
  /** Time of the last successful page load, in ms (for the status bar and the benchmark). */
  lastLoadMs: number | null;

  open(target: BrowseTarget, opts?: { filter?: string | null }): Promise<void>;
  close(): void;
  loadFirst(): Promise<void>;
  loadNext(): Promise<void>;
  loadPrev(): Promise<void>;
  loadLast(): Promise<void>;
  /** Click on a header: see nextSort (add: shift-click, a secondary sort). */
  cycleSort(column: string, opts?: { add?: boolean }): Promise<void>;
  setSort(sort: SortSpec[]): Promise<void>;
  /** `knownCount`: the exact matching count the filter editor just got for this same filter, if any. */
  setFilter(filter: string | null, knownCount?: number | null): Promise<void>;
  /** `knownCount`: when the search is cleared, the filter editor's exact count for the filter still applied, if any. */
  setSearch(text: string, knownCount?: number | null): Promise<void>;
  /** Show the rows from this key on (key order; clears the sort). */
  goToKey(values: string[]): Promise<void>;
  toggleColumn(name: string): void;
  showAllColumns(): void;
  countExact(): Promise<void>;
  /** Cancel whatever runs long: the page load and/or the exact count. */
  cancel(): Promise<void>;
  /** A live change touched these keys (key column → value): refresh the window and flash them. */
  liveChange(keys: Array<Record<string, Cell>>): void;
  /** The whole value of a cell (reads it by key when the page carried it cut). */
  fullCell(row: number, column: number): Promise<Cell>;
}

/**
 * The sort after a header click. A plain click sorts by that column alone: ascending, then
 * descending, then back to key order (when it already was the only sort). A shift-click (`add`)
 * appends the column as the next sort ascending, or flips the direction of a column already in the
 * list in place; beyond MAX_SORT_COLUMNS it is ignored.
 */
export function nextSort(sort: SortSpec[], column: string, add: boolean): SortSpec[] {
  const at = sort.findIndex((s) => s.column === column);
  if (add) {
    if (at < 0) return sort.length >= MAX_SORT_COLUMNS ? sort : [...sort, { column, dir: 'asc' }];
    return sort.map((s, i) => (i === at ? { column, dir: s.dir === 'asc' ? 'desc' : 'asc' } : s));
  }
  const only = sort.length === 1 && at === 0 ? sort[0]! : null;
  if (!only) return [{ column, dir: 'asc' }];
  return only.dir === 'asc' ? [{ column, dir: 'desc' }] : [];
}

const joinKey = (cells: Cell[]) => cells.map((c) => (c === null ? '\u0001' : c)).join('\u0000');

export function keyString(keyColumns: string[], key: Record<string, Cell>): string | null {
  if (keyColumns.length === 0) return null;
  const cells: Cell[] = [];
  for (const k of keyColumns) {
    if (!(k in key)) return null;
    cells.push(key[k] ?? null);
  }
  return joinKey(cells);
}

export interface BrowseOptions {
  pageSize?: number;
  maxPages?: number;
  /** Coalescing delay of live refreshes. */
  liveDelayMs?: number;
  now?: () => number;
}

export function createBrowseStore(api: ApiClient, opts: BrowseOptions = {}) {
  const pageSize = opts.pageSize ?? PAGE_SIZE;
  const maxPages = opts.maxPages ?? MAX_PAGES;
  const liveDelay = opts.liveDelayMs ?? 250;
  const now = opts.now ?? (() => Date.now());
  /** Bumps on every reset so answers to superseded requests are dropped. */
  let generation = 0;
  let liveTimer: ReturnType<typeof setTimeout> | null = null;
  let pendingFlash = new Set<string>();

  return createStore<BrowseState>()((set, get) => {
    const baseInput = () => {
      const s = get();
      const t = s.target!;
      return {
        connectionId: t.connectionId,
        schema: t.schema,
        table: t.table,
        ...(s.sort.length ? { sort: s.sort } : {}),
        ...(s.filter ? { filter: s.filter } : {}),
        ...(s.search.trim() ? { search: s.search.trim(), searchColumns: s.columns.map((c) => c.name).filter((n) => !s.hidden.includes(n)) } : {}),
      };
    };

    /** Runs one browse.rows call as the current load; returns null when superseded or failed. */
    const fetchPage = async (kind: Exclude<Loading, null>, extra: Partial<BrowseRowsInput>) => {
      const gen = generation;
      const requestId = newRequestId('rows');
      set({ loading: kind, requestId, error: null });
      const t0 = now();
      try {
        const out = await api.call('browse.rows', { ...baseInput(), limit: pageSize, maxCellChars: MAX_CELL_CHARS, requestId, ...extra });
        if (gen !== generation) return null;
        set({ lastLoadMs: now() - t0 });
        return out;
      } catch (e) {
        if (gen !== generation) return null;
        // A failed reload leaves nothing true to show: the old rows answered another query.
        const stale = kind === 'first' || kind === 'last' ? { rows: [], rowKeys: [], cut: {}, pages: [] } : {};
        set({ ...stale, loading: null, requestId: null, error: errorCode(e) === 'CANCELLED' ? 'Cancelled.' : errorMessage(e) });
        return null;
      }
    };

    const keysOf = (out: BrowseRowsOutput) => out.keys.map(joinKey);
    /** The cut-cell map for the rows now in the window (old entries go with their rows). */
    const cutFor = (rowKeys: string[], prev: Record<string, number[]>, out?: BrowseRowsOutput) => {
      const next: Record<string, number[]> = {};
      const outKeys = out ? keysOf(out) : [];
      const fresh = new Set(outKeys);
      for (const k of rowKeys) if (prev[k] && !fresh.has(k)) next[k] = prev[k]!;
      for (const [r, c] of out?.truncated ?? []) {
        const k = outKeys[r];
        if (k !== undefined) (next[k] ??= []).push(c);
      }
      return next;
    };

    const estimate = async () => {
      const s = get();
      if (!s.target) return;
      const gen = generation;
      try {
        const c = await api.call('browse.count', { ...baseInput(), exact: false });
        // an exact answer (a small table) replaces an exact count only when none is known yet
        if (gen === generation) set({ estimate: c.count, ...(c.exact && get().exact === null ? { exact: c.count } : {}) });
      } catch {
        /* an estimate is a nicety: the exact count stays on demand */
      }
    };

    const reset = async (where: 'first' | 'last') => {
      generation += 1;
      // The old rows stay on screen under the loading overlay until the new ones arrive; only the
      // cursors go, so nothing pages from them meanwhile.
      set({ pages: [], prevCursor: null, nextCursor: null });
      const out = await fetchPage(where, where === 'last' ? { direction: 'last' } : { direction: 'forward' });
      if (!out) return;
      set({
        columns: out.columns,
        keyColumns: out.keyColumns,
        rows: out.rows,
        rowKeys: keysOf(out),
        cut: cutFor(keysOf(out), {}, out),
        pages: [pageOf(out)],
        prevCursor: out.prevCursor,
        nextCursor: out.nextCursor,
        orderBy: out.orderBy,
        firstIndex: where === 'first' ? 0 : out.prevCursor === null ? 0 : null,
        fromEnd: where === 'last' ? 0 : out.nextCursor === null ? 0 : null,
        unnumbered: null,
        loading: null,
        requestId: null,
        scrollTo: { where: where === 'first' ? 'top' : 'bottom', seq: get().scrollTo.seq + 1 },
      });
    };

    return {
      target: null,
      columns: [],
      keyColumns: [],
      rows: [],
      rowKeys: [],
      cut: {},
      pages: [],
      firstIndex: null,
      fromEnd: null,
      unnumbered: null,
      prevCursor: null,
      nextCursor: null,
      orderBy: '',
      sort: [],
      filter: null,
      search: '',
      hidden: [],
      loading: null,
      requestId: null,
      error: null,
      estimate: null,
      exact: null,
      counting: false,
      countRequestId: null,
      countError: null,
      countStale: false,
      flash: {},
      shift: { rows: 0, seq: 0 },
      scrollTo: { where: 'top', seq: 0 },
      lastLoadMs: null,

      async open(target, o = {}) {
        const same = get().target && JSON.stringify(get().target) === JSON.stringify(target);
        set({
          target,
          ...(same ? {} : { sort: [], hidden: [], columns: [], keyColumns: [], flash: {}, rows: [], rowKeys: [], cut: {}, search: '' }),
          filter: o.filter ?? (same ? get().filter : null),
          estimate: null,
          exact: null,
          countError: null,
          countStale: false,
          error: null,
        });
        await Promise.all([reset('first'), estimate()]);
      },
      close() {
        generation += 1;
        set({ target: null, rows: [], rowKeys: [], pages: [], columns: [], loading: null, requestId: null, error: null });
      },
      loadFirst: () => reset('first'),
      loadLast: () => reset('last'),
      async loadNext() {
        const s = get();
        if (!s.target || s.loading || s.nextCursor === null || s.rows.length === 0) return;
        const out = await fetchPage('next', { direction: 'forward', after: s.nextCursor });
        if (!out) return;
        const cur = get();
        let rows = cur.rows.concat(out.rows);
        let rowKeys = cur.rowKeys.concat(keysOf(out));
        let pages = cur.pages.concat(pageOf(out));
        let dropped = 0;
        while (pages.length > maxPages) {
          dropped += pages[0]!.size;
          pages = pages.slice(1);
        }
        if (dropped > 0) {
          rows = rows.slice(dropped);
          rowKeys = rowKeys.slice(dropped);
        }
        const prevCursor = dropped > 0 ? pages[0]!.prev : cur.prevCursor;
        set({
          rows,
          rowKeys,
          cut: cutFor(rowKeys, cur.cut, out),
          pages,
          prevCursor,
          nextCursor: out.nextCursor,
          firstIndex: cur.firstIndex === null ? null : cur.firstIndex + dropped,
          fromEnd: out.nextCursor === null ? 0 : cur.fromEnd === null ? null : Math.max(0, cur.fromEnd - out.rows.length),
          loading: null,
          requestId: null,
          shift: dropped > 0 ? { rows: dropped, seq: cur.shift.seq + 1 } : cur.shift,
        });
      },
      async loadPrev() {
        const s = get();
        if (!s.target || s.loading || s.prevCursor === null || s.rows.length === 0) return;
        const out = await fetchPage('prev', { direction: 'backward', before: s.prevCursor });
        if (!out) return;
        const cur = get();
        let rows = out.rows.concat(cur.rows);
        let rowKeys = keysOf(out).concat(cur.rowKeys);
        let pages = [pageOf(out), ...cur.pages];
        let droppedEnd = 0;
        while (pages.length > maxPages) {
          droppedEnd += pages[pages.length - 1]!.size;
          pages = pages.slice(0, -1);
        }
        if (droppedEnd > 0) {
          rows = rows.slice(0, rows.length - droppedEnd);
          rowKeys = rowKeys.slice(0, rowKeys.length - droppedEnd);
        }
        const nextCursor = droppedEnd > 0 ? pages[pages.length - 1]!.next : cur.nextCursor;
        set({
          rows,
          rowKeys,
          cut: cutFor(rowKeys, cur.cut, out),
          pages,
          prevCursor: out.prevCursor,
          nextCursor,
          firstIndex: out.prevCursor === null ? 0 : cur.firstIndex === null ? null : Math.max(0, cur.firstIndex - out.rows.length),
          fromEnd: cur.fromEnd === null ? null : cur.fromEnd + droppedEnd,
          loading: null,
          requestId: null,
          shift: { rows: -out.rows.length, seq: cur.shift.seq + 1 },
        });
      },
      async cycleSort(column, o = {}) {
        await get().setSort(nextSort(get().sort, column, o.add ?? false));
      },
      async setSort(sort) {
        set({ sort });
        if (get().target) await reset('first');
      },
      async goToKey(values) {
        if (!get().target) return;
        generation += 1;
        set({ sort: [], pages: [], prevCursor: null, nextCursor: null });
        const out = await fetchPage('first', { direction: 'forward', atKey: values });
        if (!out) return;
        set({
          columns: out.columns, keyColumns: out.keyColumns, rows: out.rows, rowKeys: keysOf(out), cut: cutFor(keysOf(out), {}, out),
          pages: [pageOf(out)], prevCursor: out.prevCursor, nextCursor: out.nextCursor, orderBy: out.orderBy,
          // The server counted the rows before the key (same snapshot, filter and search): number from
          // there. Past its time limit it is unknown: unnumbered, and the footer says why.
          firstIndex: typeof out.rowsBefore === 'number' ? out.rowsBefore : null,
          fromEnd: out.nextCursor === null ? 0 : null,
          unnumbered: typeof out.rowsBefore === 'number' ? null : `not numbered: counting the rows before this key took over ${GO_TO_KEY_COUNT_MS / 1000} s`,
          loading: null, requestId: null, scrollTo: { where: 'top', seq: get().scrollTo.seq + 1 },
        });
      },
      async setSearch(text, knownCount) {
        if (text === get().search) return;
        // a count taken without the search (or with another) is not the count of these rows; with
        // the search cleared, the filter editor's count of the filter is (one count on screen)
        const back = !text.trim() && get().filter !== null && knownCount != null ? knownCount : null;
        set({ search: text, exact: back, estimate: null, countError: null, countStale: false });
        if (get().target) await Promise.all([reset('first'), estimate()]);
      },
      async setFilter(filter, knownCount) {
        const f = filter && filter.trim() ? filter.trim() : null;
        set({ filter: f, exact: f !== null && knownCount != null ? knownCount : null, estimate: null, countError: null, countStale: false });
        if (get().target) await Promise.all([reset('first'), estimate()]);
      },
      toggleColumn(name) {
        const h = get().hidden;
        set({ hidden: h.includes(name) ? h.filter((x) => x !== name) : [...h, name] });
      },
      showAllColumns() {
        set({ hidden: [] });
      },
      async countExact() {
        const s = get();
        if (!s.target || s.counting) return;
        const countRequestId = newRequestId('count');
        const gen = generation;
        set({ counting: true, countRequestId, countError: null });
        try {
          const c = await api.call('browse.count', { ...baseInput(), exact: true, requestId: countRequestId });
          if (gen !== generation) return;
          set({ exact: c.count, counting: false, countRequestId: null, countStale: false });
        } catch (e) {
          if (gen !== generation) return;
          set({ counting: false, countRequestId: null, countError: errorCode(e) === 'CANCELLED' ? 'Count cancelled.' : errorMessage(e) });
        }
      },
      async cancel() {
        const { requestId, countRequestId } = get();
        await Promise.all(
          [requestId, countRequestId].filter((x): x is string => !!x).map((id) => api.call('query.cancel', { requestId: id }).catch(() => null)),
        );
      },
      liveChange(keys) {
        const s = get();
        if (!s.target) return;
        if (s.exact !== null && !s.countStale) set({ countStale: true });
        for (const k of keys) {
          const ks = keyString(s.keyColumns, k);
          if (ks) pendingFlash.add(ks);
        }
        if (liveTimer) return;
        liveTimer = setTimeout(() => {
          liveTimer = null;
          void refreshWindow();
        }, liveDelay);
      },
      async fullCell(row, column) {
        const s = get();
        const value = s.rows[row]?.[column] ?? null;
        const key = s.rowKeys[row];
        if (!s.target || key === undefined || !s.cut[key]?.includes(column)) return value;
        const idx = (name: string) => s.columns.findIndex((c) => c.name === name);
        const keyCells = s.keyColumns.map((k) => s.rows[row]![idx(k)] ?? null);
        const r = await api.call('browse.cell', { ...s.target, column: s.columns[column]!.name, key: keyCells });
        return r.value;
      },
    };

    /** Re-reads the rows the window shows (after live changes), keeping its position. */
    async function refreshWindow() {
      const s = get();
      if (!s.target || s.loading) {
        if (s.target) liveTimer = setTimeout(() => { liveTimer = null; void refreshWindow(); }, liveDelay);
        return;
      }
      const flashNow = pendingFlash;
      pendingFlash = new Set();
      const gen = generation;
      const count = Math.max(s.rows.length, 1);
      let out: BrowseRowsOutput | null = null;
      try {
        if (s.prevCursor === null || s.firstIndex === 0) {
          out = await api.call('browse.rows', { ...baseInput(), direction: 'forward', limit: Math.min(count, 5000), maxCellChars: MAX_CELL_CHARS });
        } else {
          // The row just before the window, then the window forward from it: the same rows, re-read.
          const before = await api.call('browse.rows', { ...baseInput(), direction: 'backward', before: s.prevCursor, limit: 1 });
          const lastRow = before.rows[0];
          const after = lastRow && before.prevCursor ? before.prevCursor : null;
          out = await api.call('browse.rows', { ...baseInput(), direction: 'forward', limit: Math.min(count, 5000), maxCellChars: MAX_CELL_CHARS, ...(after ? { after } : {}) });
        }
      } catch {
        return; // the next change or scroll tries again; a refresh failing must not blank the grid
      }
      if (gen !== generation || !out) return;
      const t = now();
      const flash = { ...get().flash };
      for (const [k, at] of Object.entries(flash)) if (t - at > FLASH_MS) delete flash[k];
      const rowKeys = out.keys.map(joinKey);
      const shown = new Set(rowKeys);
      for (const k of flashNow) if (shown.has(k)) flash[k] = t;
      set({
        rows: out.rows,
        rowKeys,
        cut: cutFor(rowKeys, {}, out),
        pages: [pageOf(out)],
        prevCursor: out.prevCursor,
        nextCursor: out.nextCursor,
        flash,
      });
    }
  });
}

function pageOf(out: BrowseRowsOutput): PageInfo {
  return { size: out.rows.length, prev: out.prevCursor, next: out.nextCursor };
}
