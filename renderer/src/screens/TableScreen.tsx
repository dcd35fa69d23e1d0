/** The table browser: toolbar (counts, columns, paging, cancel), the filter editor, the grid, the cell viewer. */
import { useCallback, useEffect, useState } from 'react';
import { useApp, useS } from '../app-context';
import { DataGrid, visibleColumnNames, type ActiveCell } from '../components/DataGrid';
import { CellViewer } from '../components/CellViewer';
import { FilterBar } from '../components/FilterBar';
import { Empty, ErrorBox } from '../components/States';
import { useShortcut, keyLabel } from '../lib/shortcuts';
import { countText, countTitle, viewRangeText } from '../lib/grid-text';
import { ExportMenu } from '../inspect/ExportMenu';
import { QuickSearch } from '../inspect/QuickSearch';
import { GoToKey } from '../inspect/GoToKey';

export function TableScreen() {
  const app = useApp();
  const selected = useS(app.catalog, (s) => s.selected);
  const connectionId = useS(app.catalog, (s) => s.connectionId);
  const tables = useS(app.catalog, (s) => (s.selected ? s.nodes[s.selected.schema]?.tables : null));
  const info = tables?.find((t) => t.name === selected?.table);
  const b = useS(app.browse, (s) => s);
  const [active, setActive] = useState<ActiveCell | null>(null);
  const [viewer, setViewer] = useState(false);
  const [colsOpen, setColsOpen] = useState(false);
  const [view, setView] = useState<{ first: number; last: number }>({ first: 0, last: -1 });
  const onViewRange = useCallback((first: number, last: number) => setView((v) => (v.first === first && v.last === last ? v : { first, last })), []);

  // Open the selected table in the grid (and point the filter at it).
  useEffect(() => {
    if (!selected || !connectionId) return;
    const target = { connectionId, schema: selected.schema, table: selected.table };
    const cur = app.browse.getState().target;
    if (cur && cur.connectionId === target.connectionId && cur.schema === target.schema && cur.table === target.table) return;
    setActive(null);
    setViewer(false);
    app.filter.getState().setTarget(target);
    void app.browse.getState().open(target);
  }, [selected, connectionId, app]);

  // The editor's exact count for the filter being applied is the grid's count too: one number on screen.
  useEffect(() => app.filter.getState().onApply((f) => app.browse.getState().setFilter(f, app.filter.getState().countOf(f))), [app]);

  useShortcut('Mod+End', () => void app.browse.getState().loadLast(), !!b.target);
  useShortcut('Mod+Home', () => void app.browse.getState().loadFirst(), !!b.target);
  useShortcut('Mod+Shift+C', () => void app.browse.getState().countExact(), !!b.target);
  useShortcut('Escape', () => setViewer(false), viewer);
  useShortcut('Mod+Shift+F', () => newFlow(), !!b.target && !info?.unusableAsSource);
  // Escape closes the Columns menu (it also closes when the pointer leaves it)
  useShortcut('Escape', () => setColsOpen(false), colsOpen);

  const newFlow = () => {
    if (!b.target) return;
    // the rows the user narrowed the table to are the rows they mean to sync: keep the filter
    app.flows.getState().newFrom({ ...b.target, filter: b.filter });
    app.ui.getState().go({ name: 'flow-edit' });
  };

  if (!connectionId) return <Empty title="No connection open">Pick or add one under Connections.</Empty>;
  if (!selected)
    return (
      <Empty title="Pick a table" testId="table-empty">
        <div>Choose a table on the left to browse its rows, filter them, and set up a flow from it.</div>
        <div className="faint">
          <kbd>{keyLabel('Mod+K')}</kbd> finds a table · <kbd>?</kbd> lists all shortcuts
        </div>
      </Empty>
    );

  const visibleNames = visibleColumnNames(b.columns, b.hidden);
  const activeName = active ? visibleNames[active.col] : undefined;
  const activeCol = b.columns.find((c) => c.name === activeName);
  const activeIdx = activeCol ? b.columns.indexOf(activeCol) : -1;
  const activeValue = active && activeIdx >= 0 ? (b.rows[active.row]?.[activeIdx] ?? null) : null;
  const loadingSlow = b.loading === 'first' || b.loading === 'last';
  const activeKey = active ? b.rowKeys[active.row] : undefined;
  const activeCut = activeKey !== undefined && activeIdx >= 0 && !!b.cut[activeKey]?.includes(activeIdx);

  return (
    <div className="main" data-testid="table-screen">
      <div className="toolbar">
        <span className="title" data-testid="table-title">
          <span className="faint">{selected.schema}.</span>
          {selected.table}
        </span>
        <span className="muted" data-testid="row-count" data-stale={b.countStale ? 'true' : undefined} title={countTitle(b)}>
          {countText(b)}
        </span>
        {(b.exact === null || b.countStale) && (
          <button className="btn small" onClick={() => void app.browse.getState().countExact()} disabled={b.counting} data-testid="count-exact" title={keyLabel('count(*) — may take a while; cancellable (Mod+Shift+C)')}>
            {b.counting ? <><span className="spinner" /> counting…</> : b.countStale ? 'Recount' : 'Count exactly'}
          </button>
        )}
        {b.countError && <span className="error-text">{b.countError}</span>}
        {(b.counting || b.loading) && (
          <button className="btn small danger" onClick={() => void app.browse.getState().cancel()} data-testid="cancel-query" title={keyLabel('Cancel (Mod+.)')}>
            Cancel
          </button>
        )}
        <span className="sep" />
        <button className="btn small" onClick={() => void app.browse.getState().loadFirst()} title={keyLabel('First page (Mod+Home)')} data-testid="first-page">
          ⇤ First
        </button>
        <button className="btn small" onClick={() => void app.browse.getState().loadLast()} title={keyLabel('Jump to the end (Mod+End)')} data-testid="jump-end">
          Last ⇥
        </button>
        <div className="rel">
          <button className="btn small" onClick={() => setColsOpen(!colsOpen)} aria-expanded={colsOpen} data-testid="columns-button">
            Columns {b.hidden.length > 0 && <span className="badge accent">{b.columns.length - b.hidden.length}/{b.columns.length}</span>}
          </button>
          {colsOpen && (
            <div className="popover" style={{ top: 28, left: 0 }} onMouseLeave={() => setColsOpen(false)} data-testid="columns-popover">
              <div className="row" style={{ padding: '2px 6px 6px' }}>
                <span className="grow faint">Show columns</span>
                <button className="btn small ghost" onClick={() => app.browse.getState().showAllColumns()}>
                  All
                </button>
              </div>
              {b.columns.map((c) => (
                <label key={c.name} className="check col-choice" title={`${c.name} · ${c.type}`}>
                  <input type="checkbox" checked={!b.hidden.includes(c.name)} onChange={() => app.browse.getState().toggleColumn(c.name)} />
                  <span className="col-name">{c.name}</span>
                  <span className="faint mono col-type">{c.type}</span>
                </label>
              ))}
            </div>
          )}
        </div>
        <QuickSearch />
        <GoToKey />
        <ExportMenu
          connectionId={connectionId}
          what={`${selected.schema}.${selected.table}${b.filter ? ', filtered' : ''}${b.search.trim() ? ', searched' : ''}${b.sort.length ? `, by ${b.sort.map((s) => s.column).join(', ')}` : ''}${b.hidden.length ? `, ${b.columns.length - b.hidden.length} columns` : ''}`}
          expectedRows={b.exact ?? b.estimate}
          countLabel={countText(b)}
          source={() => ({
            kind: 'table', schema: selected.schema, table: selected.table,
            columns: visibleColumnNames(b.columns, b.hidden),
            ...(b.filter ? { filter: b.filter } : {}),
            ...(b.sort.length ? { sort: b.sort } : {}),
            ...(b.search.trim() ? { search: b.search.trim() } : {}),
          })}
        />
        <button className="btn small" onClick={() => void app.browse.getState().open(b.target!)} title="Reload" aria-label="Reload">
          ↻
        </button>
        <span className="grow" />
        {info?.unusableAsSource ? (
          <span className="badge danger clip" title={info.unusableAsSource} data-testid="unusable">
            not usable as a source: {info.unusableAsSource}
          </span>
        ) : (
          <button className="btn small primary" onClick={newFlow} disabled={!b.target} data-testid="new-flow" title={keyLabel('Mod+Shift+F')}>
            New flow from this table
          </button>
        )}
      </div>
      <FilterBar columns={b.columns.map((c) => c.name)} table={selected.table} />
      <div className="split">
        <div className="grid-wrap">
          {b.error && (
            <div style={{ padding: 10 }}>
              <ErrorBox message={b.error} action={<button className="btn small" onClick={() => void app.browse.getState().loadFirst()}>Retry</button>} testId="grid-error" />
            </div>
          )}
          {b.columns.length > 0 && <DataGrid active={active} onActive={setActive} onOpenViewer={() => setViewer(true)} onViewRange={onViewRange} />}
          {b.columns.length > 0 && b.rows.length === 0 && !b.loading && !b.error && (
            <div className="grid-overlay">
              <Empty title={b.filter ? 'No rows match the filter' : 'This table is empty'} testId="grid-empty" />
            </div>
          )}
          {loadingSlow && (
            <div className="grid-overlay">
              <div className="grid-loading">
                <span className="spinner" /> {b.loading === 'last' ? 'Jumping to the end…' : 'Loading rows…'}
                <button className="btn small" onClick={() => void app.browse.getState().cancel()}>
                  Cancel
                </button>
              </div>
            </div>
          )}
          <div className="grid-foot" data-testid="grid-foot">
            <span data-testid="view-range">{viewRangeText(view.first, Math.min(view.last, b.rows.length - 1), b)}</span>
            {b.unnumbered && b.firstIndex === null && <span className="faint" data-testid="unnumbered-why">{b.unnumbered}</span>}
            {b.loading === 'next' || b.loading === 'prev' ? <span className="row"><span className="spinner" /> loading more…</span> : null}
            <span className="grow" />
            <span className="faint" title="Keyset order: deep pages cost the same as the first">
              order: <span className="mono">{b.orderBy || '—'}</span>
            </span>
            {b.filter && <span className="badge accent" title={b.filter}>filtered</span>}
          </div>
        </div>
        {viewer && activeCol && active && (
          <CellViewer
            column={activeCol.name}
            type={activeCol.type}
            value={activeValue}
            load={activeCut ? () => app.browse.getState().fullCell(active.row, activeIdx) : undefined}
            loadKey={activeCut ? `${activeKey}\u0000${activeIdx}` : undefined}
            onClose={() => setViewer(false)}
          />
        )}
      </div>
    </div>
  );
}

