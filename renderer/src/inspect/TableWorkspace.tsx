/**
 * The explorer's main area: tabs beside a table's rows. Rows (the browser), Structure (catalog),
 * SQL (the console of the active connection). The rows stay mounted while another tab is shown, so
 * the grid keeps its place.
 */
import { useApp, useS } from '../app-context';
import { TableScreen } from '../screens/TableScreen';
import type { TableTab } from '../stores/ui';
import { StructurePanel } from './StructurePanel';
import { ConsolePanel } from './ConsolePanel';

const TABS: Array<{ tab: TableTab; label: string; needsTable: boolean }> = [
  { tab: 'rows', label: 'Rows', needsTable: true },
  { tab: 'structure', label: 'Structure', needsTable: true },
  { tab: 'sql', label: 'SQL', needsTable: false },
];

export function TableWorkspace() {
  const app = useApp();
  const tab = useS(app.ui, (s) => s.tableTab);
  const selected = useS(app.catalog, (s) => s.selected);
  const connectionId = useS(app.catalog, (s) => s.connectionId);
  const connectionName = useS(app.connections, (s) => s.list.find((c) => c.id === connectionId)?.name ?? '');
  if (!connectionId) return <TableScreen />;
  const shown: TableTab = !selected && tab !== 'sql' ? 'rows' : tab;
  return (
    <div className="main" data-testid="table-workspace">
      <div className="tabs ws-tabs" role="tablist" aria-label="Table views">
        {TABS.map((t) => (
          <button
            key={t.tab}
            role="tab"
            aria-selected={shown === t.tab}
            disabled={t.needsTable && !selected}
            onClick={() => app.ui.getState().setTableTab(t.tab)}
            data-testid={`tab-${t.tab}`}
          >
            {t.label}
          </button>
        ))}
        {selected && <span className="ws-tabs-title faint">{selected.schema}.{selected.table}</span>}
      </div>
      <div className="ws-pane" hidden={shown !== 'rows'}>
        <TableScreen />
      </div>
      {shown === 'structure' && selected && (
        <div className="ws-pane ws-scroll">
          <StructurePanel connectionId={connectionId} schema={selected.schema} table={selected.table} />
        </div>
      )}
      {shown === 'sql' && (
        <div className="ws-pane">
          <ConsolePanel connectionId={connectionId} connectionName={connectionName} />
        </div>
      )}
    </div>
  );
}
