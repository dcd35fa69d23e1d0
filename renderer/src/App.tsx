import { useEffect, useState } from 'react';
import { useApp, useS } from './app-context';
import type { LinkState } from './api/client';
import { REFUSED_MESSAGE } from './api/transport.ws';
import { useShortcut, keyLabel } from './lib/shortcuts';
import { fmtMs } from './lib/format';
import { Explorer } from './components/Explorer';
import { ShortcutsOverlay } from './components/ShortcutsOverlay';
import { Toasts } from './components/Toasts';
import { ExportTray } from './inspect/ExportMenu';
import { ConnectionsScreen } from './screens/ConnectionsScreen';
import { TableWorkspace } from './inspect/TableWorkspace';
import { FlowsScreen } from './screens/FlowsScreen';
import { FlowEditScreen } from './screens/FlowEditScreen';
import { PlanScreen } from './screens/PlanScreen';
import { MonitorScreen } from './screens/MonitorScreen';
import { SetsScreen } from './screens/SetsScreen';
import type { View } from './stores/ui';

const NAV: Array<{ label: string; view: View; match: View['name'][] }> = [
  { label: 'Connections', view: { name: 'connections' }, match: ['connections'] },
  { label: 'Explorer', view: { name: 'table' }, match: ['table'] },
  { label: 'Flows', view: { name: 'flows' }, match: ['flows', 'flow-edit', 'plan'] },
  { label: 'Sets', view: { name: 'sets' }, match: ['sets'] },
  { label: 'Monitor', view: { name: 'monitor' }, match: ['monitor'] },
];

export function App() {
  const app = useApp();
  const view = useS(app.ui, (s) => s.view);
  const theme = useS(app.ui, (s) => s.theme);
  const activeId = useS(app.connections, (s) => s.activeId);
  const connections = useS(app.connections, (s) => s.list);
  const info = useS(app.connections, (s) => s.app);
  const lastLoadMs = useS(app.browse, (s) => s.lastLoadMs);
  const [link, setLink] = useState<LinkState>('open');

  useEffect(() => {
    document.documentElement.dataset['theme'] = theme;
    localStorage.setItem('tablesync.theme', theme);
  }, [theme]);

  // Startup: what is saved, and wire engine events to the stores that care.
  useEffect(() => {
    // The connection last open in this browser stays the active one across reloads.
    const last = localStorage.getItem('tablesync.activeConnection');
    if (last && !app.connections.getState().activeId) app.connections.setState({ activeId: last });
    void app.connections.getState().load().then(() => {
      const c = app.connections.getState();
      if (c.list.length > 0 && app.ui.getState().view.name === 'connections' && c.activeId) app.ui.getState().go({ name: 'table' });
    });
    void app.flows.getState().load();
    void app.sets.getState().load();
    void app.monitor.getState().refreshWatches();
    const offLink = app.api.onLinkState?.(setLink);
    const off = app.api.onEvent((e) => {
      switch (e.event) {
        case 'flow.change': {
          app.monitor.getState().onChange(e.payload);
          const f = app.flows.getState().summary(e.payload.flow);
          const t = app.browse.getState().target;
          if (f && t && ((f.source.schema === t.schema && f.source.table === t.table) || (f.target.schema === t.schema && f.target.table === t.table))) {
            app.browse.getState().liveChange([e.payload.key]);
            const ft = app.filter.getState().target;
            if (ft && ft.connectionId === t.connectionId && ft.schema === t.schema && ft.table === t.table) app.filter.getState().markStale();
          }
          break;
        }
        case 'flow.listener':
          app.monitor.getState().onListener(e.payload);
          break;
        case 'flow.applyProgress':
          app.plan.getState().onProgress(e.payload);
          break;
        case 'set.applyProgress':
          app.sets.getState().onProgress(e.payload);
          break;
        case 'settings.changed':
          if (e.payload.what === 'connections') void app.connections.getState().load();
          else if (e.payload.what === 'sets') void app.sets.getState().load();
          else void app.flows.getState().load();
          break;
        case 'export.progress':
          app.exports.getState().onProgress(e.payload);
          break;
        case 'demo.status':
          app.connections.setState({ demo: e.payload });
          break;
        default:
          break;
      }
    });
    return () => {
      off();
      offLink?.();
    };
  }, [app]);

  // The explorer follows the active connection, and reloads it when it was saved again (a fixed
  // password must not leave the old "password authentication failed" until Retry).
  const activeRevision = useS(app.connections, (s) => (activeId ? (s.revisions[activeId] ?? 0) : 0));
  useEffect(() => {
    if (!activeId) return;
    localStorage.setItem('tablesync.activeConnection', activeId);
    void app.catalog.getState().open(activeId, { force: activeRevision > 0 });
  }, [activeId, activeRevision, app]);

  useShortcut('?', () => app.ui.getState().setShortcutsOpen(!app.ui.getState().shortcutsOpen));
  useShortcut('Mod+Shift+L', () => app.ui.getState().toggleTheme());
  useShortcut(['Mod+1', 'Mod+2', 'Mod+3', 'Mod+4'], (e) => {
    const n = Number(e.code.replace('Digit', '') || e.key) - 1;
    const item = NAV[n];
    if (item) app.ui.getState().go(item.view);
  });
  useShortcut('Mod+.', () => {
    void app.browse.getState().cancel();
    void app.plan.getState().cancel();
    void app.console.getState().cancel();
  });

  const active = connections.find((c) => c.id === activeId);
  // The database's own state, as the explorer last found it when listing its schemas.
  const catalogError = useS(app.catalog, (s) => (s.connectionId === activeId ? s.error : null));
  const catalogOk = useS(app.catalog, (s) => s.connectionId === activeId && s.schemas !== null);
  const dbState: 'ok' | 'failed' | 'checking' = catalogError ? 'failed' : catalogOk ? 'ok' : 'checking';
  const showSidebar = view.name !== 'connections' && !!activeId;

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" />
          TableSync
        </div>
        <nav className="nav" aria-label="Screens">
          {NAV.map((n) => (
            <button key={n.label} aria-current={n.match.includes(view.name) ? 'page' : undefined} onClick={() => app.ui.getState().go(n.view)}>
              {n.label}
            </button>
          ))}
        </nav>
        <div className="spacer" />
        {connections.length > 0 && (
          <select
            aria-label="Active connection"
            value={activeId ?? ''}
            onChange={(e) => app.connections.getState().select(e.target.value || null)}
            style={{ maxWidth: 220 }}
          >
            {connections.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        )}
        <button className="icon-btn" title={keyLabel('Light / dark (Mod+Shift+L)')} aria-label="Toggle theme" onClick={() => app.ui.getState().toggleTheme()}>
          {theme === 'light' ? '☾' : '☀'}
        </button>
        <button className="icon-btn" title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts" onClick={() => app.ui.getState().setShortcutsOpen(true)}>
          <kbd>?</kbd>
        </button>
      </header>
      {/* always present: the grid's second row is this banner's (empty when the link is fine) */}
      <div>
        {(link === 'reconnecting' || link === 'closed') && (
          <div className="alert warn link-banner" role="alert" data-testid="link-banner">
            {link === 'reconnecting'
              ? 'Lost the connection to TableSync. Reconnecting… (what you do meanwhile is sent once it is back)'
              : REFUSED_MESSAGE}
          </div>
        )}
      </div>
      <div className={showSidebar ? 'body' : 'body no-sidebar'}>
        {showSidebar && <Explorer />}
        <main className="main">
          {view.name === 'connections' && <ConnectionsScreen />}
          {view.name === 'table' && <TableWorkspace />}
          {view.name === 'flows' && <FlowsScreen />}
          {view.name === 'flow-edit' && <FlowEditScreen />}
          {view.name === 'plan' && <PlanScreen flow={view.flow} />}
          {view.name === 'monitor' && <MonitorScreen />}
          {view.name === 'sets' && <SetsScreen />}
        </main>
      </div>
      <footer className="statusbar">
        {/* Two different links: this window's to the TableSync engine, and the engine's to the database. */}
        <span data-testid="link-state" title="This window's link to the TableSync engine (not to your database)">
          {link === 'open' ? '● app linked' : link === 'reconnecting' ? '◌ reconnecting to TableSync…' : link === 'closed' ? '✕ app link refused' : '◌ connecting to TableSync…'}
        </span>
        {active && (
          <span data-testid="db-state" data-state={dbState} className={dbState === 'failed' ? 'error-text' : undefined} title={dbState === 'failed' ? (catalogError ?? '') : 'The database of the active connection'}>
            {dbState === 'ok' ? '●' : dbState === 'failed' ? '✕' : '◌'} {active.user}@{active.host}:{active.port}/{active.database}
            {dbState === 'failed' ? ': not reachable (see the explorer)' : dbState === 'checking' ? ': connecting…' : ''}
          </span>
        )}
        {lastLoadMs !== null && <span>last page {fmtMs(lastLoadMs)}</span>}
        <span style={{ flex: 1 }} />
        {info?.secretStorage.warning && <span title={info.secretStorage.warning}>⚠ passwords: {info.secretStorage.kind} storage</span>}
        {info && <span>{info.mode} · v{info.version}</span>}
      </footer>
      <ShortcutsOverlay />
      <Toasts />
      <ExportTray />
    </div>
  );
}
