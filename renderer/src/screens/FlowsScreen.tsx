/** Saved flows: open (edit), preview the plan, monitor, drop what a flow created, forget it. */
import { useApp, useS } from '../app-context';
import { errorMessage } from '../api/client';
import { Empty, ErrorBox } from '../components/States';
import { fmtTime } from '../lib/format';
import { DropDialog } from './DropDialog';

export function FlowsScreen() {
  const app = useApp();
  const s = useS(app.flows, (x) => x);
  const monitors = useS(app.monitor, (x) => x.flows);

  const edit = async (name: string) => {
    try {
      await app.flows.getState().edit(name);
      app.ui.getState().go({ name: 'flow-edit' });
    } catch (e) {
      app.ui.getState().toast('error', errorMessage(e));
    }
  };
  const drop = (name: string) => void app.flows.getState().reviewDrop(name);

  return (
    <div className="page" data-testid="flows-screen">
      <div className="page-head">
        <h1 className="grow">Flows</h1>
        <button className="btn" onClick={() => app.ui.getState().go({ name: 'table' })}>
          + New flow from a table
        </button>
      </div>
      {s.error && <ErrorBox message={s.error} />}
      {s.loaded && s.list.length === 0 && (
        <div className="panel">
          <Empty title="No flows yet" testId="flows-empty">
            Open a source table in the Explorer and choose <b>New flow from this table</b>.
          </Empty>
        </div>
      )}
      {s.list.length > 0 && (
        <div className="panel" style={{ overflowX: 'auto' }}>
          <table className="diff-table" data-testid="flows-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Source</th>
                <th>Target</th>
                <th>State</th>
                <th className="col-saved">Saved</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {s.list.map((f) => {
                const m = monitors[f.name];
                const live = m?.watching ?? f.watching;
                return (
                  <tr key={f.name} data-flow={f.name}>
                    <td style={{ fontFamily: 'var(--sans)', fontWeight: 600 }}>
                      {f.name} {f.demo && <span className="badge info">demo</span>}
                    </td>
                    <td title={`${f.source.connection} · ${f.source.schema}.${f.source.table}`}>
                      <div>{f.source.schema}.{f.source.table}</div>
                      <div className="faint" style={{ fontFamily: 'var(--sans)' }}>{f.source.connection}</div>
                    </td>
                    <td title={`${f.target.connection} · ${f.target.schema}.${f.target.table}`}>
                      <div>{f.target.schema}.{f.target.table} <span className="badge">{f.target.managedBy}</span></div>
                      <div className="faint" style={{ fontFamily: 'var(--sans)' }}>{f.target.connection}</div>
                    </td>
                    <td>{live ? <span className="badge ok">{m?.status?.state ?? 'watching'}</span> : <span className="faint">idle</span>}</td>
                    <td className="faint col-saved">{f.updatedAt ? `${new Date(f.updatedAt).toLocaleDateString()} ${fmtTime(f.updatedAt).slice(0, 5)}` : ''}</td>
                    {/* in its own column, never over the others: in a narrow window the buttons wrap onto two lines */}
                    <td className="flow-actions" data-testid={`actions-${f.name}`}>
                      <div className="row" style={{ justifyContent: 'flex-end', gap: 4, flexWrap: 'wrap' }}>
                        <button className="btn small" onClick={() => void edit(f.name)}>Edit</button>
                        <button className="btn small primary" onClick={() => app.ui.getState().go({ name: 'plan', flow: f.name })}>Plan</button>
                        <button className="btn small" onClick={() => app.ui.getState().go({ name: 'monitor', flow: f.name })}>Monitor</button>
                        <button className="btn small danger" onClick={() => drop(f.name)} disabled={s.dropping === f.name} data-testid={`drop-${f.name}`}>
                          {s.dropping === f.name ? 'Dropping…' : 'Drop'}
                        </button>
                        <button
                          className="btn small ghost"
                          title="Forget the saved flow (databases untouched)"
                          onClick={async () => {
                            if (!confirm(`Forget the saved flow “${f.name}”? Its target and state stay in the databases; use Drop to remove them.`)) return;
                            await app.flows.getState().remove(f.name).catch((e) => app.ui.getState().toast('error', errorMessage(e)));
                          }}
                        >
                          ✕
                        </button>
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {s.dropReview && <DropDialog />}
      {s.lastDrop && (
        <div className="alert ok" style={{ marginTop: 12 }} data-testid="drop-result">
          Dropped “{s.lastDrop.flow}”: {s.lastDrop.steps.join('; ') || 'nothing to remove'}.
        </div>
      )}
    </div>
  );
}
