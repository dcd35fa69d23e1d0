/** WHERE … : the filter editor over the grid, validated as you type, with the matching row count. */
import { keyLabel } from '../lib/shortcuts';
import { useApp, useS } from '../app-context';
import { fmtCount } from '../lib/format';
import { SqlEditor } from './SqlEditor';

export function FilterBar(props: { columns: string[]; table: string }) {
  const app = useApp();
  const f = useS(app.filter, (s) => s);
  const cls = f.status === 'invalid' || f.status === 'error' ? 'invalid' : f.status === 'valid' ? 'valid' : '';
  const dirty = (f.text.trim() || null) !== f.applied;
  return (
    <>
      <div className="filter-bar">
        <span className="where">WHERE</span>
        <SqlEditor
          value={f.text}
          onChange={(t) => app.filter.getState().setText(t)}
          onSubmit={() => void app.filter.getState().apply()}
          columns={props.columns}
          tableName={props.table}
          errorPosition={f.status === 'invalid' ? f.position : null}
          placeholder={keyLabel(`a SQL condition, e.g. price > 10 and name ilike '%lamp%'   (Mod+Enter to apply)`)}
          className={cls}
          ariaLabel="Filter"
          testId="filter-editor"
        />
        <button className="btn primary" onClick={() => void app.filter.getState().apply()} disabled={f.status === 'invalid' || f.status === 'checking' || (!dirty && f.status !== 'pending')} data-testid="apply-filter">
          Apply <kbd>{keyLabel('Mod+↵')}</kbd>
        </button>
        {f.applied && (
          <button className="btn ghost" onClick={() => void app.filter.getState().clear()}>
            Clear
          </button>
        )}
      </div>
      {(f.status !== 'empty' || f.applied) && (
        <div className="filter-status" data-testid="filter-status" data-status={f.status}>
          {f.status === 'pending' && <span className="faint">…</span>}
          {f.status === 'checking' && (
            <span className="row muted">
              <span className="spinner" /> checking…
            </span>
          )}
          {f.status === 'valid' && (
            <span className="ok" data-testid="filter-count">
              ✓ valid · {f.count === null ? (f.countTimedOut ? 'too many to count quickly' : 'count unknown') : `${fmtCount(f.count)} matching rows${f.countStale ? ' (before live changes)' : ''}`}
            </span>
          )}
          {(f.status === 'invalid' || f.status === 'error') && (
            <span className="error-text" role="alert" data-testid="filter-error">
              ✕ {f.message}
              {f.position ? ` (at character ${f.position})` : ''}
            </span>
          )}
          {f.status === 'valid' && f.countStale && (
            <button className="btn small ghost" onClick={() => void app.filter.getState().validateNow()} data-testid="filter-recount" title="Live changes arrived for this table since the count: count again">
              Recount
            </button>
          )}
          {f.applied && !dirty && f.status !== 'invalid' && <span className="badge accent">applied</span>}
          {dirty && f.applied && <span className="faint">not applied yet</span>}
        </div>
      )}
    </>
  );
}
