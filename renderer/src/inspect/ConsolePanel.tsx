/**
 * The SQL tab: the console of the active connection. The filter's editor (highlighting, completion
 * of tables and columns), Run / EXPLAIN / EXPLAIN ANALYZE / Cancel, the writes switch (off: every
 * statement runs read-only), a confirmation showing the statement before a write runs, history,
 * and the result in the table browser's virtualized grid, read page by page from a cursor.
 */
import { useEffect, useState } from 'react';
import { useApp, useS } from '../app-context';
import { DataGrid, visibleColumnNames, type ActiveCell } from '../components/DataGrid';
import { CellViewer } from '../components/CellViewer';
import { Modal } from '../components/Modal';
import { SqlEditor } from '../components/SqlEditor';
import { useShortcut } from '../lib/shortcuts';
import { fmtCount, fmtMs } from '../lib/format';
import { PlanTree } from './PlanTree';
import { ExportMenu } from './ExportMenu';

export function ConsolePanel(props: { connectionId: string; connectionName: string }) {
  const app = useApp();
  const c = useS(app.console, (s) => s);
  const writes = !!c.writes[props.connectionId];
  const [active, setActive] = useState<ActiveCell | null>(null);
  const [viewer, setViewer] = useState(false);
  const [historyOpen, setHistoryOpen] = useState(false);
  const [planView, setPlanView] = useState<'tree' | 'text'>('tree');

  useEffect(() => app.console.getState().open(props.connectionId), [app, props.connectionId]);
  useEffect(() => {
    setActive(null);
    setViewer(false);
  }, [c.result?.resultId]);
  useShortcut('Escape', () => (viewer ? setViewer(false) : setHistoryOpen(false)), viewer || historyOpen);

  const run = (mode: 'run' | 'plan' | 'analyze') => void app.console.getState().request(mode);
  const names = visibleColumnNames(c.columns, c.hidden);
  const activeName = active ? names[active.col] : undefined;
  const activeIdx = activeName !== undefined ? c.columns.findIndex((x) => x.name === activeName) : -1;
  const r = c.result;
  const end = c.firstIndex !== null ? c.firstIndex + c.rows.length : 0;

  return (
    <div className="console" data-testid="console">
      <div className="toolbar console-bar">
        <button className="btn primary" onClick={() => run('run')} disabled={!!c.running || !c.text.trim()} data-testid="console-run" title="Run the statement, or the selected text (Mod+Enter)">
          ▶ Run <kbd>Mod+↵</kbd>
        </button>
        <button className="btn" onClick={() => run('plan')} disabled={!!c.running || !c.text.trim()} data-testid="console-explain" title="EXPLAIN: the plan, without running it">
          Explain
        </button>
        <button className="btn" onClick={() => run('analyze')} disabled={!!c.running || !c.text.trim()} data-testid="console-analyze" title="EXPLAIN ANALYZE runs the statement to time it, then rolls it back">
          Explain analyze
        </button>
        {c.running && (
          <button className="btn danger" onClick={() => void app.console.getState().cancel()} data-testid="console-cancel" title="Cancel (pg_cancel_backend)">
            <span className="spinner" /> Cancel
          </button>
        )}
        <span className="sep" />
        <label className={`switch${writes ? ' on' : ''}`} title={writes ? 'Statements can write: each one is shown to you before it runs' : 'Every statement runs in a READ ONLY transaction'} data-testid="console-writes">
          <input type="checkbox" checked={writes} onChange={(e) => app.console.getState().setWrites(e.target.checked)} aria-label={`Allow writes on ${props.connectionName}`} />
          <span className="switch-track" aria-hidden="true"><span className="switch-knob" /></span>
          {writes ? <span className="badge danger">writes allowed on {props.connectionName}</span> : <span className="badge ok">read-only</span>}
        </label>
        <span className="grow" />
        <ExportMenu
          connectionId={props.connectionId}
          what="the result of the last statement, run again read-only"
          expectedRows={c.exact}
          disabled={!r || !!r.plan || r.columns.length === 0 || !c.resultSql || r.command !== 'SELECT'}
          source={() => (c.resultSql ? { kind: 'query', sql: c.resultSql } : null)}
        />
        <div className="rel">
          <button className="btn small" onClick={() => setHistoryOpen(!historyOpen)} aria-expanded={historyOpen} data-testid="console-history-button">
            History <span className="faint">{c.history.length}</span>
          </button>
          {historyOpen && (
            <div className="popover history-pop" style={{ top: 28, right: 0 }} data-testid="console-history">
              <div className="row" style={{ padding: '2px 6px 6px' }}>
                <span className="grow faint">This connection's statements, newest first</span>
                {c.history.length > 0 && <button className="btn small ghost" onClick={() => app.console.getState().clearHistory()}>Clear</button>}
              </div>
              {c.history.length === 0 && <div className="faint" style={{ padding: 6 }}>Nothing run yet.</div>}
              {c.history.map((h) => (
                <button key={h.at + h.sql} className="history-item" onClick={() => { app.console.getState().useHistory(h); setHistoryOpen(false); }} title={h.sql}>
                  <span className={`mono grow ellipsis${h.ok ? '' : ' error-text'}`}>{h.sql.replace(/\s+/g, ' ')}</span>
                  <span className="faint">{h.summary}</span>
                </button>
              ))}
            </div>
          )}
        </div>
      </div>
      <div className="console-editor">
        <SqlEditor
          value={c.text}
          onChange={(t) => app.console.getState().setText(t)}
          onSelection={(t) => app.console.getState().setSelection(t)}
          onSubmit={() => run('run')}
          schema={c.completions ?? {}}
          errorPosition={c.error?.position ?? null}
          placeholder="select * from …   (Mod+Enter runs the statement, or the selected text)"
          ariaLabel="SQL console"
          testId="console-editor"
        />
      </div>
      <div className="console-status" data-testid="console-status">
        {c.running && <span className="row muted"><span className="spinner" /> {c.running === 'run' ? 'running…' : 'explaining…'}</span>}
        {!c.running && c.error && (
          <span className="error-text" role="alert" data-testid="console-error">
            ✕ {c.error.message}{c.error.position ? ` (at character ${c.error.position})` : ''}
            {c.error.readOnly && (
              <button className="btn small" style={{ marginLeft: 8 }} onClick={() => app.console.getState().setWrites(true)}>Allow writes…</button>
            )}
          </span>
        )}
        {!c.running && !c.error && r && (
          <span data-testid="console-summary">
            {r.plan ? `EXPLAIN${r.plan.executionMs !== null ? ' ANALYZE' : ''}${r.plan.rolledBack && r.plan.executionMs !== null ? ' (rolled back)' : ''}`
              : r.columns.length === 0 ? `${r.command}${r.affected !== null ? ` ${fmtCount(r.affected)}` : ''}`
              : c.exact !== null ? `${fmtCount(c.exact)} rows` : `${fmtCount(end)}+ rows (more are read as you scroll)`}
            <span className="faint"> · {fmtMs(r.durationMs)} · {r.readOnly ? 'read-only' : 'committed'}</span>
          </span>
        )}
        {r && r.notices.length > 0 && <span className="faint" title={r.notices.join('\n')}> · {r.notices.length} notice{r.notices.length > 1 ? 's' : ''}: {r.notices[0]}</span>}
        {c.pageError && <span className="error-text"> · {c.pageError}</span>}
      </div>
      <div className="split">
        <div className="grid-wrap">
          {r?.plan ? (
            <div className="plan-wrap" data-testid="console-plan">
              <div className="tabs" style={{ padding: 0 }}>
                <button aria-selected={planView === 'tree'} onClick={() => setPlanView('tree')}>Tree</button>
                <button aria-selected={planView === 'text'} onClick={() => setPlanView('text')}>Text</button>
              </div>
              {planView === 'tree' ? <PlanTree root={r.plan.root} /> : <pre className="st-ddl mono">{r.plan.text}</pre>}
              {(r.plan.planningMs !== null || r.plan.executionMs !== null) && (
                <div className="faint" style={{ marginTop: 6 }}>
                  {r.plan.planningMs !== null && `planning ${fmtMs(r.plan.planningMs)}`}
                  {r.plan.executionMs !== null && ` · execution ${fmtMs(r.plan.executionMs)}`}
                </div>
              )}
            </div>
          ) : c.columns.length > 0 ? (
            <>
              <DataGrid source={app.console} active={active} onActive={setActive} onOpenViewer={() => setViewer(true)} testId="console-grid" />
              {c.rows.length === 0 && <div className="grid-overlay faint">No rows.</div>}
              <div className="grid-foot">
                <span>{c.rows.length > 0 && c.firstIndex !== null ? `rows ${fmtCount(c.firstIndex + 1)}–${fmtCount(end)}${c.exact !== null ? ` of ${fmtCount(c.exact)}` : ''}` : ''}</span>
                {c.loading && <span className="row"><span className="spinner" /> loading more…</span>}
              </div>
            </>
          ) : !r && !c.error ? (
            <div className="grid-overlay faint" data-testid="console-empty">
              <div>
                Runs against <b>{props.connectionName}</b>{writes ? ' with writes allowed' : ', read-only'}. One statement at a time.
              </div>
            </div>
          ) : null}
        </div>
        {viewer && active && activeIdx >= 0 && (
          <CellViewer column={c.columns[activeIdx]!.name} type={c.columns[activeIdx]!.type} value={c.rows[active.row]?.[activeIdx] ?? null} onClose={() => setViewer(false)} />
        )}
      </div>
      {c.confirm && (
        <Modal
          title="Run this statement with writes allowed?"
          onClose={() => app.console.getState().cancelConfirm()}
          width={720}
          footer={
            <>
              <button className="btn" onClick={() => app.console.getState().cancelConfirm()}>Cancel</button>
              <button className="btn danger solid" onClick={() => void app.console.getState().confirmRun()} data-testid="console-confirm" autoFocus>
                Run and commit
              </button>
            </>
          }
        >
          <p>It runs on <b>{props.connectionName}</b> and is committed when it succeeds.</p>
          <pre className="st-ddl mono" data-testid="console-confirm-sql">{c.confirm.sql}</pre>
        </Modal>
      )}
    </div>
  );
}
