/**
 * The virtualized table grid. Rows come from the browse store's bounded window; only the rows in
 * view are in the DOM (@tanstack/react-virtual), columns and visibility are @tanstack/react-table's.
 * Near either edge of the window it asks the store for the next/previous keyset page; when the
 * store drops a page from one edge it reports the shift and the scroll position is corrected so the
 * rows under the pointer stay put.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { getCoreRowModel, useReactTable, type ColumnDef, type ColumnSizingState, type VisibilityState } from '@tanstack/react-table';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { StoreApi } from 'zustand/vanilla';
import { useApp, useS } from '../app-context';
import type { Cell, SortSpec } from '../api/types';
import { isNumericType, shortType } from '../lib/format';
import { FLASH_MS } from '../stores/browse';
import { formatCells, sqlTableName, type CopyFormat } from '../lib/copy-format';
import { GridMenu } from '../inspect/GridMenu';
import { maxRowNumber, rowNumberOf, rowNumberWidth } from '../lib/grid-text';

export const ROW_HEIGHT = 27; // 26px cell + 1px border
const EDGE_ROWS = 60;

export interface ActiveCell { row: number; col: number }

/**
 * What the grid reads from its store: the browse store's window of keyset pages, or a console
 * result's window of cursor pages. Both keep a bounded window and report shifts the same way.
 */
export interface GridSource {
  target: { connectionId: string; schema: string; table: string } | null;
  columns: Array<{ name: string; type: string; keyPosition: number | null }>;
  hidden: string[];
  rows: Cell[][];
  rowKeys: string[];
  flash: Record<string, number>;
  shift: { rows: number; seq: number };
  scrollTo: { where: 'top' | 'bottom'; seq: number };
  loading: string | null;
  nextCursor: unknown;
  prevCursor: unknown;
  firstIndex: number | null;
  fromEnd: number | null;
  exact: number | null;
  /** The sort list, most significant first ([] for none). */
  sort: SortSpec[];
  loadNext(): Promise<void>;
  loadPrev(): Promise<void>;
  cycleSort(column: string, opts?: { add?: boolean }): Promise<void>;
}

function widthFor(type: string, name: string): number {
  // Room for the name and its type in the header, within reason.
  const base = Math.max(80, Math.min(320, name.length * 8 + shortType(type).length * 6.5 + 44));
  if (/^(boolean)/.test(type)) return Math.max(base, 80);
  if (isNumericType(type)) return Math.max(base, 110);
  if (/^timestamp/.test(type)) return Math.max(base, 210);
  if (/^(date|time)/.test(type)) return Math.max(base, 110);
  if (/^uuid/.test(type)) return Math.max(base, 320); // 36 characters whole, in the proportional font too
  if (/json|text|character|vector|\[\]|bytea/.test(type)) return Math.max(base, 220);
  return Math.max(base, 140);
}

function preview(v: Cell): string {
  if (v === null) return 'NULL';
  return v.length > 300 ? v.slice(0, 300) + '…' : v;
}

export function DataGrid(props: { active: ActiveCell | null; onActive(c: ActiveCell | null): void; onOpenViewer(): void; onViewRange?(first: number, last: number): void; source?: StoreApi<GridSource>; testId?: string }) {
  const app = useApp();
  const store: StoreApi<GridSource> = props.source ?? app.browse;
  const b = useS(store, (s) => s);
  const scrollRef = useRef<HTMLDivElement>(null);
  const [now, setNow] = useState(() => Date.now());
  // Range selection: from the anchor (shift-click, shift+arrows, a row number) to the active cell.
  const [anchor, setAnchor] = useState<ActiveCell | null>(null);
  const [menu, setMenu] = useState<{ x: number; y: number } | null>(null);

  const visibility: VisibilityState = useMemo(() => Object.fromEntries(b.hidden.map((h) => [h, false])), [b.hidden]);
  const columns = useMemo<ColumnDef<Cell[]>[]>(
    () =>
      b.columns.map((c, i) => ({
        id: c.name,
        header: c.name,
        accessorFn: (row) => row[i],
        size: widthFor(c.type, c.name),
        meta: { type: c.type, key: c.keyPosition, index: i },
      })),
    [b.columns],
  );
  // Widths the user dragged, per table (a new table starts from the type-based defaults).
  const [sizing, setSizing] = useState<ColumnSizingState>({});
  const tableId = b.target ? `${b.target.connectionId}\u0000${b.target.schema}\u0000${b.target.table}` : '';
  useEffect(() => setSizing({}), [tableId]);
  const table = useReactTable({
    data: b.rows,
    columns,
    state: { columnVisibility: visibility, columnSizing: sizing },
    onColumnSizingChange: setSizing,
    columnResizeMode: 'onChange',
    enableColumnResizing: true,
    getCoreRowModel: getCoreRowModel(),
  });
  const visibleCols = table.getVisibleLeafColumns();
  // The row-number column is as wide as its largest number (so 10,000 and up are not cut off).
  const numW = rowNumberWidth(maxRowNumber(b));
  const totalWidth = numW + visibleCols.reduce((a, c) => a + c.getSize(), 0);
  // The leading key columns stay put when scrolling sideways (after the row numbers).
  const frozenLeft: Record<string, number> = {};
  for (let i = 0, left = numW; i < visibleCols.length; i++) {
    const c = visibleCols[i]!;
    if ((c.columnDef.meta as { key: number | null }).key === null) break;
    frozenLeft[c.id] = left;
    left += c.getSize();
  }

  const virt = useVirtualizer({
    count: b.rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });

  // Keep the rows under the pointer still when the window drops or prepends a page.
  const lastShift = useRef(b.shift.seq);
  useLayoutEffect(() => {
    if (b.shift.seq === lastShift.current) return;
    lastShift.current = b.shift.seq;
    const el = scrollRef.current;
    if (el) el.scrollTop = Math.max(0, el.scrollTop - b.shift.rows * ROW_HEIGHT);
  }, [b.shift]);

  const lastScroll = useRef(b.scrollTo.seq);
  // Right after a jump the virtualizer still reports the old viewport: no edge loads until it settles.
  const settleUntil = useRef(0);
  useLayoutEffect(() => {
    if (b.scrollTo.seq === lastScroll.current) return;
    lastScroll.current = b.scrollTo.seq;
    settleUntil.current = performance.now() + 300;
    const el = scrollRef.current;
    if (!el) return;
    el.scrollTop = b.scrollTo.where === 'top' ? 0 : el.scrollHeight;
    if (b.scrollTo.where === 'bottom') requestAnimationFrame(() => (el.scrollTop = el.scrollHeight));
  }, [b.scrollTo, b.rows.length]);

  const items = virt.getVirtualItems();
  const firstVisible = items[0]?.index ?? 0;
  const lastVisible = items[items.length - 1]?.index ?? 0;
  const [recheck, setRecheck] = useState(0);
  useEffect(() => {
    const s = store.getState();
    if (s.loading || s.rows.length === 0) return;
    const wait = settleUntil.current - performance.now();
    if (wait > 0) {
      // Look again once settled: a viewport parked at an edge sends no further scroll events.
      const t = setTimeout(() => setRecheck((x) => x + 1), wait + 10);
      return () => clearTimeout(t);
    }
    if (lastVisible >= s.rows.length - EDGE_ROWS && s.nextCursor !== null) void s.loadNext();
    else if (firstVisible <= EDGE_ROWS && s.prevCursor !== null && s.firstIndex !== 0) void s.loadPrev();
  }, [firstVisible, lastVisible, b.loading, b.rows.length, recheck, store]);

  // Flashes fade by time: re-render while any is running so finished ones lose their class.
  const flashing = Object.keys(b.flash).length > 0;
  useEffect(() => {
    if (!flashing) return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [flashing]);

  const rowNumber = (i: number): string => String(rowNumberOf(i, b) ?? '');

  // The rows really visible (not the virtualizer's overscan, not those under the sticky header), for
  // the footer's "rows a–b in view".
  const onViewRange = useRef(props.onViewRange);
  onViewRange.current = props.onViewRange;
  const reportView = () => {
    const el = scrollRef.current;
    if (!el || !onViewRange.current) return;
    const head = (el.querySelector('.thead') as HTMLElement | null)?.offsetHeight ?? 0;
    const n = store.getState().rows.length;
    const first = Math.min(n - 1, Math.floor(el.scrollTop / ROW_HEIGHT));
    const last = Math.min(n - 1, Math.ceil((el.scrollTop + el.clientHeight - head) / ROW_HEIGHT) - 1);
    onViewRange.current(Math.max(0, first), Math.max(0, last));
  };
  useLayoutEffect(reportView);

  // Keep the active cell in view when it moves (keyboard) or the grid narrows (the cell viewer opens):
  // below the sticky header, right of the row numbers and frozen key columns.
  const activeRef = useRef(props.active);
  activeRef.current = props.active;
  const reveal = () => {
    const a = activeRef.current;
    const el = scrollRef.current;
    if (!a || !el) return;
    const head = (el.querySelector('.thead') as HTMLElement | null)?.offsetHeight ?? 0;
    const top = a.row * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight - head) el.scrollTop = top + ROW_HEIGHT - (el.clientHeight - head);
    const col = visibleCols[a.col];
    if (!col || frozenLeft[col.id] !== undefined) return;
    let left = numW;
    let frozenW = numW;
    for (let i = 0; i < a.col; i++) {
      const c = visibleCols[i]!;
      left += c.getSize();
      if (frozenLeft[c.id] !== undefined) frozenW += c.getSize();
    }
    const right = left + col.getSize();
    if (left - frozenW < el.scrollLeft) el.scrollLeft = left - frozenW;
    else if (right > el.scrollLeft + el.clientWidth) el.scrollLeft = Math.min(left - frozenW, right - el.clientWidth);
  };
  const revealRef = useRef(reveal);
  revealRef.current = reveal;
  useLayoutEffect(() => revealRef.current(), [props.active?.row, props.active?.col]);
  useEffect(() => {
    const el = scrollRef.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => revealRef.current());
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const range = props.active
    ? {
        r0: Math.min(anchor?.row ?? props.active.row, props.active.row), r1: Math.max(anchor?.row ?? props.active.row, props.active.row),
        c0: Math.min(anchor?.col ?? props.active.col, props.active.col), c1: Math.max(anchor?.col ?? props.active.col, props.active.col),
      }
    : null;
  const inRange = (r: number, c: number) => !!range && r >= range.r0 && r <= range.r1 && c >= range.c0 && c <= range.c1;
  useEffect(() => setAnchor(null), [tableId]);

  const copy = (format: CopyFormat | 'value' | 'column', header = false) => {
    if (!range) return;
    const cols = visibleCols.slice(range.c0, range.c1 + 1).map((c) => c.id);
    const idx = cols.map((n) => b.columns.findIndex((c) => c.name === n));
    const rowsSel = b.rows.slice(range.r0, range.r1 + 1).map((r) => idx.map((i) => r[i] ?? null));
    let text: string;
    if (format === 'value') text = b.rows[props.active!.row]?.[b.columns.findIndex((c) => c.name === visibleCols[props.active!.col]?.id)] ?? '';
    else if (format === 'column') text = visibleCols[props.active!.col]?.id ?? '';
    else if (format === 'tsv' && !header && rowsSel.length === 1 && cols.length === 1) text = rowsSel[0]![0] ?? '';
    else {
      const t = b.target;
      const table = t && t.schema !== '(console)' ? sqlTableName(t.schema, t.table) : undefined;
      text = formatCells(format, cols, rowsSel, { header, ...(table ? { table } : {}) });
    }
    void navigator.clipboard?.writeText(text).catch(() => {});
  };

  const onKey = (e: React.KeyboardEvent) => {
    const a = props.active;
    if (!a) return;
    if (e.shiftKey && e.key.startsWith('Arrow')) {
      if (!anchor) setAnchor(a);
    } else if (e.key.startsWith('Arrow') || e.key.startsWith('Page')) setAnchor(null);
    const maxRow = b.rows.length - 1;
    const maxCol = visibleCols.length - 1;
    let { row, col } = a;
    if (e.key === 'ArrowDown') row = Math.min(maxRow, row + 1);
    else if (e.key === 'ArrowUp') row = Math.max(0, row - 1);
    else if (e.key === 'ArrowRight') col = Math.min(maxCol, col + 1);
    else if (e.key === 'ArrowLeft') col = Math.max(0, col - 1);
    else if (e.key === 'PageDown') row = Math.min(maxRow, row + 20);
    else if (e.key === 'PageUp') row = Math.max(0, row - 20);
    else if (e.key === 'Enter') return props.onOpenViewer();
    else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'c') {
      copy('tsv');
      return;
    }
    else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'a') {
      e.preventDefault();
      setAnchor({ row: 0, col: 0 });
      props.onActive({ row: maxRow, col: maxCol });
      return;
    }
    else if (e.key === 'Escape') {
      setAnchor(null);
      return props.onActive(null);
    }
    else return;
    e.preventDefault();
    props.onActive({ row, col }); // the layout effect above scrolls it into view
  };

  const rows = table.getRowModel().rows;
  return (
    <div className="grid-wrap">
      <div className="grid-scroll" ref={scrollRef} tabIndex={0} onKeyDown={onKey} onScroll={reportView} data-testid={props.testId ?? 'grid'} aria-rowcount={b.rows.length} role="grid">
        <div className="dgrid" style={{ width: totalWidth }}>
          <div className="thead" role="row">
            <div className="th rownum-h" style={{ cursor: 'default', width: numW }}>#</div>
            {table.getHeaderGroups()[0]!.headers.map((header) => {
              const col = header.column;
              const meta = col.columnDef.meta as { type: string; key: number | null };
              const sortAt = b.sort.findIndex((s) => s.column === col.id);
              const sorted = sortAt >= 0 ? b.sort[sortAt]!.dir : null;
              return (
                <div
                  key={col.id}
                  className={`th${frozenLeft[col.id] !== undefined ? ' frozen' : ''}`}
                  role="columnheader"
                  aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : 'none'}
                  style={{ width: col.getSize(), ...(frozenLeft[col.id] !== undefined ? { left: frozenLeft[col.id] } : {}) }}
                  title={`${col.id} ${meta.type}${meta.key ? ` · key #${meta.key}` : ''} — click to sort, shift-click to add as the next sort`}
                  onMouseDown={(e) => { if (e.shiftKey) e.preventDefault(); }}
                  onClick={(e) => void store.getState().cycleSort(col.id, { add: e.shiftKey })}
                  data-column={col.id}
                >
                  {meta.key !== null && <span className="key-badge">PK</span>}
                  <span className="lbl">{col.id}</span>
                  <span className="type">{shortType(meta.type)}</span>
                  {sorted && (
                    <span className="sort" data-testid={`sort-${col.id}`} aria-label={`sort ${sortAt + 1} ${sorted === 'asc' ? 'ascending' : 'descending'}`}>
                      {sorted === 'asc' ? '▲' : '▼'}
                      {b.sort.length > 1 && <sup className="sort-n">{sortAt + 1}</sup>}
                    </span>
                  )}
                  <span
                    className={`resizer${col.getIsResizing() ? ' resizing' : ''}`}
                    onMouseDown={header.getResizeHandler()}
                    onClick={(e) => e.stopPropagation()}
                    onDoubleClick={(e) => {
                      e.stopPropagation();
                      col.resetSize();
                    }}
                    title="Drag to resize; double-click to reset"
                    aria-hidden="true"
                  />
                </div>
              );
            })}
          </div>
          <div style={{ height: virt.getTotalSize(), position: 'relative' }}>
            {items.map((vi) => {
              const row = rows[vi.index];
              if (!row) return null;
              const key = b.rowKeys[vi.index] ?? String(vi.index);
              const flashAt = b.flash[key];
              const flash = flashAt !== undefined && now - flashAt < FLASH_MS;
              return (
                <div
                  key={flash ? `${key}@${flashAt}` : key}
                  className={`tr${flash ? ' flash' : ''}${props.active?.row === vi.index ? ' selected' : ''}`}
                  role="row"
                  data-row={vi.index}
                  data-flash={flash ? 'true' : undefined}
                  style={{ top: vi.start, height: ROW_HEIGHT, width: totalWidth }}
                >
                  <div
                    className="td rownum"
                    style={{ width: numW }}
                    onClick={(e) => {
                      const last = visibleCols.length - 1;
                      setAnchor(e.shiftKey && props.active ? { row: anchor?.row ?? props.active.row, col: 0 } : { row: vi.index, col: 0 });
                      props.onActive({ row: vi.index, col: last });
                    }}
                    title="Select the row (shift-click: rows)"
                  >
                    {rowNumber(vi.index)}
                  </div>
                  {row.getVisibleCells().map((cell, ci) => {
                    const v = cell.getValue() as Cell;
                    const meta = cell.column.columnDef.meta as { type: string };
                    const isActive = props.active?.row === vi.index && props.active.col === ci;
                    return (
                      <div
                        key={cell.id}
                        role="gridcell"
                        className={`td${v === null ? ' null' : ''}${isNumericType(meta.type) ? ' num' : ''}${isActive ? ' active' : ''}${!isActive && inRange(vi.index, ci) ? ' in-range' : ''}${frozenLeft[cell.column.id] !== undefined ? ' frozen' : ''}`}
                        style={{ width: cell.column.getSize(), ...(frozenLeft[cell.column.id] !== undefined ? { left: frozenLeft[cell.column.id] } : {}) }}
                        onClick={(e) => {
                          if (e.shiftKey && props.active) setAnchor(anchor ?? props.active);
                          else setAnchor(null);
                          props.onActive({ row: vi.index, col: ci });
                        }}
                        onMouseDown={(e) => { if (e.shiftKey) e.preventDefault(); /* a range, not the page's text selection */ }}
                        onContextMenu={(e) => {
                          e.preventDefault();
                          if (!inRange(vi.index, ci)) {
                            setAnchor(null);
                            props.onActive({ row: vi.index, col: ci });
                          }
                          setMenu({ x: e.clientX, y: e.clientY });
                        }}
                        onDoubleClick={() => {
                          props.onActive({ row: vi.index, col: ci });
                          props.onOpenViewer();
                        }}
                      >
                        {preview(v)}
                      </div>
                    );
                  })}
                </div>
              );
            })}
          </div>
        </div>
      </div>
      {menu && range && (
        <GridMenu
          x={menu.x}
          y={menu.y}
          cells={(range.r1 - range.r0 + 1) * (range.c1 - range.c0 + 1)}
          rows={range.r1 - range.r0 + 1}
          onCopy={copy}
          onSelectRows={() => {
            setAnchor({ row: range.r0, col: 0 });
            props.onActive({ row: range.r1, col: visibleCols.length - 1 });
          }}
          onClose={() => setMenu(null)}
        />
      )}
    </div>
  );
}

/** The visible columns' names in order, for the cell viewer to find the active cell's column. */
export function visibleColumnNames(columns: Array<{ name: string }>, hidden: string[]): string[] {
  return columns.map((c) => c.name).filter((n) => !hidden.includes(n));
}
