/** The sidebar: the active connection's schemas and tables (estimates, key badges), and saved flows. */
import { useApp, useS } from '../app-context';
import { useShortcut, keyLabel } from '../lib/shortcuts';
import { fmtApprox } from '../lib/format';
import type { TableInfo } from '../api/types';
import { useRef, useState } from 'react';
import { DatabasesNode, SchemaObjectsNodes } from '../inspect/TreeObjects';

export function Explorer() {
  const app = useApp();
  const cat = useS(app.catalog, (s) => s);
  const flows = useS(app.flows, (s) => s.list);
  const view = useS(app.ui, (s) => s.view);
  const monitors = useS(app.monitor, (s) => s.flows);
  const searchRef = useRef<HTMLInputElement>(null);
  // Tables picked with Ctrl/Cmd-click (toggle) and Shift-click (range) for "New set from the picked tables".
  const [picked, setPicked] = useState<{ schema: string; tables: string[]; anchor: string | null }>({ schema: '', tables: [], anchor: null });
  const pick = (schema: string, names: string[], t: string, e: { ctrlKey: boolean; metaKey: boolean; shiftKey: boolean }): boolean => {
    if (!e.ctrlKey && !e.metaKey && !e.shiftKey) return false;
    const cur = picked.schema === schema ? picked : { schema, tables: [], anchor: null };
    if (e.shiftKey && cur.anchor && names.includes(cur.anchor)) {
      const [a, b] = [names.indexOf(cur.anchor), names.indexOf(t)].sort((x, y) => x - y);
      setPicked({ schema, tables: [...new Set([...cur.tables, ...names.slice(a, b! + 1)])], anchor: cur.anchor });
    } else {
      setPicked({ schema, tables: cur.tables.includes(t) ? cur.tables.filter((x) => x !== t) : [...cur.tables, t], anchor: t });
    }
    return true;
  };
  useShortcut('Mod+K', () => {
    app.ui.getState().go({ name: 'table' });
    searchRef.current?.focus();
  });

  const openTable = (schema: string, t: TableInfo) => {
    app.catalog.getState().select({ schema, table: t.name });
    app.ui.getState().go({ name: 'table' });
  };
  const q = cat.search.trim().toLowerCase();

  return (
    <aside className="sidebar" aria-label="Explorer">
      <div className="side-head">
        <h3>Tables</h3>
        <button className="icon-btn" title="Refresh" aria-label="Refresh tables" onClick={() => void app.catalog.getState().refresh()}>
          ↻
        </button>
      </div>
      <div className="side-search">
        <input ref={searchRef} placeholder={keyLabel('Find a table  (Mod+K)')} value={cat.search} onChange={(e) => app.catalog.getState().setSearch(e.target.value)}
          onKeyDown={(e) => {
            if (e.key !== 'Enter') return;
            const hit = app.catalog.getState().firstMatch();
            if (!hit) return;
            e.preventDefault();
            app.catalog.getState().select(hit);
            app.ui.getState().go({ name: 'table' });
          }}
          aria-label="Find a table"
        />
      </div>
      <div className="side-scroll" role="tree" data-testid="table-tree">
        {cat.loading && !cat.schemas && (
          <div className="tree-item faint">
            <span className="spinner" /> Loading schemas…
          </div>
        )}
        {cat.error && (
          <div className="alert error" style={{ margin: 8 }} data-testid="tree-error">
            {cat.error}
            <div style={{ marginTop: 6 }}>
              <button className="btn small" onClick={() => void app.catalog.getState().refresh()} disabled={cat.loading}>
                {cat.loading ? <><span className="spinner" /> Retrying…</> : 'Retry'}
              </button>
            </div>
          </div>
        )}
        {cat.schemas?.length === 0 && <div className="faint" style={{ padding: '6px 12px' }}>No schemas you can see.</div>}
        {cat.schemas?.map((schema) => {
          const node = cat.nodes[schema];
          const open = !!cat.expanded[schema];
          const tables = (node?.tables ?? []).filter((t) => !q || t.name.toLowerCase().includes(q));
          if (q && node?.tables && tables.length === 0) return null;
          return (
            <div key={schema}>
              <button className="tree-item" role="treeitem" aria-expanded={open} onClick={() => void app.catalog.getState().toggle(schema)}>
                <span className="caret">{open ? '▾' : '▸'}</span>
                <span className="name" style={{ fontWeight: 600 }}>{schema}</span>
                {node?.tables && <span className="est">{node.tables.length}</span>}
              </button>
              {open && node?.loading && !node.tables && (
                <div className="tree-item faint" style={{ ['--depth' as string]: 1 }}>
                  <span className="spinner" /> Loading…
                </div>
              )}
              {open && node?.error && <div className="error-text" style={{ padding: '2px 26px' }}>{node.error}</div>}
              {open && node?.tables?.length === 0 && <div className="faint" style={{ padding: '2px 26px' }}>No tables.</div>}
              {open && node?.tables && node.tables.length > 0 && (
                <button
                  className="tree-item faint"
                  style={{ ['--depth' as string]: 1 }}
                  data-testid={`new-set-${schema}`}
                  title="Sync every table of this schema as one set: one plan, one apply, one watcher"
                  onClick={() => {
                    const id = app.connections.getState().activeId;
                    if (!id) return;
                    app.sets.getState().newFrom(id, schema);
                    app.ui.getState().go({ name: 'sets' });
                  }}
                >
                  <span className="name">+ New set from this schema…</span>
                </button>
              )}
              {open && picked.schema === schema && picked.tables.length > 0 && (
                <div className="tree-item" style={{ ['--depth' as string]: 1, gap: 6 }}>
                  <button
                    className="btn small primary"
                    data-testid={`new-set-picked-${schema}`}
                    title={`A set of ${picked.tables.join(', ')}`}
                    onClick={() => {
                      const id = app.connections.getState().activeId;
                      if (!id) return;
                      const names = (node?.tables ?? []).map((x) => x.name).filter((x) => picked.tables.includes(x));
                      app.sets.getState().newFrom(id, schema, names);
                      setPicked({ schema: '', tables: [], anchor: null });
                      app.ui.getState().go({ name: 'sets' });
                    }}
                  >
                    New set from {picked.tables.length} picked table{picked.tables.length === 1 ? '' : 's'}…
                  </button>
                  <button className="btn small" onClick={() => setPicked({ schema: '', tables: [], anchor: null })} title="Clear the picked tables">✕</button>
                </div>
              )}
              {open &&
                tables.map((t) => {
                  const isPicked = picked.schema === schema && picked.tables.includes(t.name);
                  const selected = isPicked || (cat.selected?.schema === schema && cat.selected.table === t.name && view.name === 'table');
                  return (
                    <button
                      key={t.name}
                      className={`tree-item${t.unusableAsSource ? ' unusable' : ''}`}
                      style={{ ['--depth' as string]: 1 }}
                      role="treeitem"
                      aria-selected={selected}
                      data-table={`${schema}.${t.name}`}
                      title={`${t.unusableAsSource ? `Not usable as a source: ${t.unusableAsSource}` : `${t.kind}; key (${t.primaryKey.join(', ')})`}. Ctrl/Cmd-click or Shift-click to pick tables for a new set`}
                      data-picked={isPicked || undefined}
                      onClick={(e) => { if (!pick(schema, tables.map((x) => x.name), t.name, e)) openTable(schema, t); }}
                    >
                      <span className="tbl-icon" />
                      <span className="name">{t.name}</span>
                      {t.unusableAsSource ? (
                        <span className="nokey-badge" aria-label={`not usable: ${t.unusableAsSource}`}>{t.kind !== 'table' ? t.kind.toUpperCase() : t.primaryKey.length === 0 ? 'NO KEY' : 'INHERITS'}</span>
                      ) : (
                        <span className="key-badge" title={`primary key (${t.primaryKey.join(', ')})`}>PK</span>
                      )}
                      <span className="est" title="estimated rows">{fmtApprox(t.estimatedRows)}</span>
                    </button>
                  );
                })}
              {open && <SchemaObjectsNodes schema={schema} filter={q} />}
            </div>
          );
        })}
        {cat.schemas && <DatabasesNode />}
      </div>
      <div className="side-section" style={{ maxHeight: '35%', display: 'flex', flexDirection: 'column' }}>
        <div className="side-head">
          <h3>Flows</h3>
          <button className="icon-btn" title="All flows" onClick={() => app.ui.getState().go({ name: 'flows' })}>
            ⋯
          </button>
        </div>
        <div className="side-scroll">
          {flows.length === 0 && <div className="faint" style={{ padding: '0 12px 8px' }}>No flows yet. Open a table and choose “New flow”.</div>}
          {flows.map((f) => (
            <button
              key={f.name}
              className="tree-item"
              aria-selected={(view.name === 'plan' && view.flow === f.name) || (view.name === 'monitor' && view.flow === f.name)}
              onClick={() => app.ui.getState().go({ name: 'plan', flow: f.name })}
              title={`${f.source.schema}.${f.source.table} → ${f.target.schema}.${f.target.table}`}
            >
              <span className="caret">⇢</span>
              <span className="name">{f.name}</span>
              {(monitors[f.name]?.watching ?? f.watching) && <span className="badge ok">live</span>}
            </button>
          ))}
        </div>
      </div>
    </aside>
  );
}
