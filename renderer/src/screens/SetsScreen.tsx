/**
 * Sets of flows: the saved sets (plan + apply as one), and the "New set" form started from a schema
 * in the explorer: source and target, tables "*" with exclude patterns, set-wide defaults, a filter
 * per table, and the preview of the whole set (members with the defaults applied and their counts,
 * refused tables with the reason).
 */
import { Fragment, useState } from 'react';
import { SetMemberEditor } from './SetMemberEditor';
import { useApp, useS } from '../app-context';
import { ErrorBox } from '../components/States';
import { PlanStepView } from '../components/PlanStepView';
import { draftToSpec, memberStateText, SET_APPLY_DESTRUCTIVE_LABEL, SET_DROP_DESTRUCTIVE_LABEL } from '../stores/sets';

export function SetsScreen() {
  const app = useApp();
  const [editing, setEditing] = useState<string | null>(null);
  // Members whose steps (each with its SQL) are shown under their row.
  const [showSteps, setShowSteps] = useState<ReadonlySet<string>>(new Set());
  const toggleSteps = (table: string) => setShowSteps((cur) => { const next = new Set(cur); if (!next.delete(table)) next.add(table); return next; });
  const s = useS(app.sets, (x) => x);
  const connections = useS(app.connections, (x) => x.list);
  const d = s.draft;
  const st = app.sets.getState();
  const previewIsOfDraft = d !== null && s.preview !== null && s.previewSpec === JSON.stringify(draftToSpec(d));
  return (
    <div className="page" data-testid="sets-screen">
      <div className="page-head">
        <h1 className="grow">Sets</h1>
        <span className="faint">A whole schema as one: one plan, one apply (one target transaction), one watcher.</span>
      </div>
      {s.error && <ErrorBox message={s.error} />}
      {d && (
        <div className="panel" data-testid="set-draft">
          <h2>{s.list.some((x) => x.name === d.name) ? <>Set <span className="mono">{d.name}</span></> : 'New set'}</h2>
          <div className="row" style={{ gap: 12, flexWrap: 'wrap' }}>
            <label>Name <input data-testid="set-name" value={d.name} onChange={(e) => st.edit({ name: e.target.value })} /></label>
            <label>Source <select value={d.sourceConnectionId} onChange={(e) => st.edit({ sourceConnectionId: e.target.value })}>
              {connections.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select></label>
            <label>schema <input value={d.sourceSchema} onChange={(e) => st.edit({ sourceSchema: e.target.value })} /></label>
            <label>Target <select data-testid="set-target" value={d.targetConnectionId} onChange={(e) => st.edit({ targetConnectionId: e.target.value })}>
              {connections.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select></label>
            <label>schema <input data-testid="set-target-schema" value={d.targetSchema} onChange={(e) => st.edit({ targetSchema: e.target.value })} /></label>
          </div>
          {d.tables ? (
            <>
              <h3>Tables: these ({d.tables.split(',').filter((x) => x.trim()).length}) <button className="btn small" onClick={() => st.edit({ tables: '' })} data-testid="set-whole-schema">use the whole schema instead</button></h3>
              <input data-testid="set-tables" value={d.tables} onChange={(e) => st.edit({ tables: e.target.value })} style={{ width: '100%' }} aria-label="Tables of the set" />
            </>
          ) : (
            <>
              <h3>Tables: every table of the schema, except</h3>
              <input data-testid="set-exclude" placeholder="audit_*, tmp_?" value={d.exclude} onChange={(e) => st.edit({ exclude: e.target.value })} style={{ width: '100%' }} />
            </>
          )}
          <h3>Defaults for all tables</h3>
          <div className="row" style={{ gap: 12, flexWrap: 'wrap' }}>
            <label>ordinal column (where it qualifies) <input data-testid="set-ordinal" placeholder="last_update" value={d.ordinalColumn} onChange={(e) => st.edit({ ordinalColumn: e.target.value })} /></label>
            <label>type overrides <input data-testid="set-types" placeholder="mpaa_rating=text" value={d.typeOverrides} onChange={(e) => st.edit({ typeOverrides: e.target.value })} /></label>
            <label><input type="checkbox" checked={d.foreignKeys} onChange={(e) => st.edit({ foreignKeys: e.target.checked })} /> copy foreign keys among members</label>
            <label><input type="checkbox" checked={d.live} onChange={(e) => st.edit({ live: e.target.checked })} /> live capture</label>
          </div>
          <div className="row" style={{ gap: 8, marginTop: 12 }}>
            <button className="btn" data-testid="set-preview" disabled={s.busy !== null} onClick={() => void st.previewDraft()}>{s.busy === 'preview' ? 'Previewing…' : 'Preview the set'}</button>
            <button className="btn primary" data-testid="set-save" disabled={s.busy !== null} onClick={() => void st.saveDraft()}>Save set</button>
          </div>
          {s.stale && s.stale.set === d.name && (
            <div className="alert warn" data-testid="set-stale" style={{ marginTop: 12, display: 'block' }}>
              <b>The plan went stale: nothing was applied.</b> Since it was computed:
              <ul>{s.stale.members.map((m, i) => <li key={i}>{m.table ? <b>{m.table}</b> : 'set-wide'}: {m.reason}</li>)}</ul>
              Below is the plan as of now: review it and apply again.
            </div>
          )}
          {s.preview && (
            <div data-testid="set-preview-result" style={{ marginTop: 12 }}>
              <table className="diff-table" data-testid="set-members">
                <thead><tr><th>Table</th><th>Insert</th><th>Update</th><th>Delete</th><th>Steps</th><th>Set defaults applied</th><th>Filter (this table)</th></tr></thead>
                <tbody>
                  {s.preview.members.map((m) => (
                    <Fragment key={m.table}>
                    <tr data-table={m.table}>
                      <td style={{ fontWeight: 600 }}>{m.table}</td>
                      {m.plan ? <><td>{m.plan.rows.insert}</td><td>{m.plan.rows.update}</td><td>{m.plan.rows.delete}</td><td>{m.plan.steps.length > 0
                        ? <button className="btn small" data-testid={`steps-${m.table}`} aria-expanded={showSteps.has(m.table)} title="Show this table's steps and their SQL" onClick={() => toggleSteps(m.table)}>{m.plan.steps.length} {showSteps.has(m.table) ? '▾' : '▸'}</button>
                        : 0}{m.plan.blockers.length ? ' · blocked' : ''}</td></> : <td colSpan={4} className="error">{m.error?.message}</td>}
                      <td className="faint">{m.applied.join('; ')}</td>
                      <td><div className="row" style={{ gap: 4 }}>
                        <input placeholder="SQL filter" value={d.filters[m.table] ?? ''} onChange={(e) => st.edit({ filters: { ...d.filters, [m.table]: e.target.value } })} />
                        <button className="btn small" data-testid={`edit-member-${m.table}`} onClick={() => setEditing(editing === m.table ? null : m.table)} title="Columns, names, types, ordinal column and filter of this table (the flow editor's form)">{d.overrides[m.table] && Object.keys(d.overrides[m.table]!).length ? 'Edit ✎' : 'Edit…'}</button>
                      </div></td>
                    </tr>
                    {m.plan && showSteps.has(m.table) && (
                      <tr data-steps-of={m.table}>
                        <td colSpan={7}><div className="stack" data-testid={`member-steps-${m.table}`}>{m.plan.steps.map((st2, i) => <PlanStepView key={i} step={st2} />)}</div></td>
                      </tr>
                    )}
                    </Fragment>
                  ))}
                </tbody>
              </table>
              {s.preview.steps.length > 0 && (
                <details data-testid="set-wide-steps" style={{ marginTop: 6 }}>
                  <summary>Set-wide steps ({s.preview.steps.length}): foreign keys among members</summary>
                  <div className="stack">{s.preview.steps.map((st2, i) => <PlanStepView key={i} step={st2} />)}</div>
                </details>
              )}
              {editing && <SetMemberEditor table={editing} onClose={() => setEditing(null)} />}
              <div className="row" style={{ marginTop: 6, gap: 8 }}>
                <span className="faint grow">
                  total: {s.preview.totals.insert} to insert, {s.preview.totals.update} to update, {s.preview.totals.delete} to delete · {s.preview.foreignKeys.filter((f) => !f.skipped).length} foreign keys{s.preview.totals.destructiveSteps ? ` · ${s.preview.totals.destructiveSteps} destructive step(s)` : ''} · computed {new Date(s.preview.computedAt).toLocaleTimeString()}
                </span>
                <button
                  className="btn primary small"
                  data-testid="set-apply-plan"
                  disabled={s.busy !== null || !previewIsOfDraft || s.preview.blockers.length > 0}
                  title={!previewIsOfDraft ? 'The form changed since this preview: preview the set again' : 'Save the set and apply exactly this plan: when the source or the target changed since, the apply says which tables and why'}
                  onClick={() => void st.applyPreview()}
                >
                  Save &amp; apply this plan
                </button>
              </div>
              {s.preview.blockers.length > 0 && (
                <div className="alert error" data-testid="set-blockers" style={{ marginTop: 8, display: 'block' }}>
                  <b>Cannot be applied as it is:</b>
                  <ul>{s.preview.blockers.map((b, i) => <li key={i}>{b.table ? <><b>{b.table}</b>: </> : null}{b.message}</li>)}</ul>
                </div>
              )}
              {s.preview.refused.length > 0 && (
                <div className="alert" data-testid="set-refused" style={{ marginTop: 8, display: 'block' }}>
                  <b>Not members:</b>
                  <ul>{s.preview.refused.map((r) => <li key={r.table}><b>{r.table}</b>{r.kind ? ` (${r.kind})` : ''}: {r.reason}</li>)}</ul>
                </div>
              )}
            </div>
          )}
        </div>
      )}
      <div className="panel" style={{ marginTop: 12 }}>
        <h2>Saved sets</h2>
        {s.list.length === 0 && <div className="faint">No sets yet: in the Explorer, choose “New set” on a schema.</div>}
        {s.list.length > 0 && (
          <table className="diff-table" data-testid="sets-table">
            <thead><tr><th>Name</th><th>Source</th><th>Target</th><th>Tables</th><th /></tr></thead>
            <tbody>
              {s.list.map((x) => (
                <tr key={x.name} data-set={x.name}>
                  <td style={{ fontWeight: 600 }}>{x.name}</td>
                  <td>{x.source.connection} · {x.source.schema}</td>
                  <td>{x.target.connection} · {x.target.schema}</td>
                  <td>{x.tables === '*' ? 'all' : x.tables.join(', ')}</td>
                  <td><div className="row" style={{ gap: 6 }}>
                    <button className="btn small primary" data-testid={`apply-set-${x.name}`} disabled={s.busy !== null} onClick={() => void st.apply(x.name)}>{s.applying?.name === x.name ? 'Applying…' : 'Apply'}</button>
                    <button className="btn small" data-testid={`open-set-${x.name}`} disabled={s.busy !== null} onClick={() => void st.openSaved(x.name, connections)} title="Open the saved set file in the form above: members, defaults and each table's own settings">Edit</button>
                    <button className="btn small" data-testid={`verify-set-${x.name}`} disabled={s.busy !== null} onClick={() => void st.verify(x.name)}>{s.busy === 'verify' ? 'Verifying…' : 'Verify'}</button>
                    <button className="btn small danger" data-testid={`drop-set-${x.name}`} disabled={s.busy !== null} onClick={() => void st.drop(x.name)} title="Remove what the set created in the target (its tables, foreign keys, state) and the source's capture triggers">{s.busy === 'drop' ? 'Dropping…' : 'Drop…'}</button>
                  </div></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {s.applying && (
          <div className="alert" data-testid="set-apply-progress" style={{ marginTop: 8, display: 'block' }}>
            <div className="row" style={{ gap: 8 }}>
              <span className="spinner" />
              <span className="grow">
                Applying set “{s.applying.name}” in one transaction{s.applying.progress ? `: ${s.applying.progress.phase === 'members' && s.applying.progress.table ? `table ${s.applying.progress.table} (${s.applying.progress.memberIndex + 1} of ${s.applying.progress.members})` : s.applying.progress.phase}` : '…'}
              </span>
              <button className="btn small" data-testid="set-apply-cancel" onClick={() => void st.cancelApply()} title="Roll back the set's one transaction: the target stays as it was">Cancel</button>
            </div>
            <progress data-testid="set-apply-bar" style={{ width: '100%', marginTop: 6 }} max={Math.max(1, s.applying.progress?.members ?? 1)} value={s.applying.progress ? (s.applying.progress.phase === 'done' || s.applying.progress.phase === 'committing' ? s.applying.progress.members : s.applying.progress.memberIndex) : 0} />
            {s.applying.tables.length > 0 && (
              <div className="row" data-testid="set-apply-tables" style={{ gap: 6, flexWrap: 'wrap', marginTop: 6 }}>
                {s.applying.tables.map((t) => (
                  <span key={t.table} className={`badge ${t.stage === 'done' || t.stage === 'checked' || t.stage === 'rows moved' ? 'ok' : t.stage === 'checking' ? '' : 'info'}`} data-table={t.table} data-state={memberStateText(t)}>
                    {`${t.table}: ${memberStateText(t)}`}
                  </span>
                ))}
              </div>
            )}
          </div>
        )}
        {s.cancelled && <div className="alert warn" data-testid="set-apply-cancelled" style={{ marginTop: 8 }}>Cancelled: {s.cancelled}</div>}
        {s.applyNeedsConfirm && (
          <div className="alert error" data-testid="set-apply-confirm" style={{ marginTop: 8 }}>
            <div>{s.applyNeedsConfirm.message}</div>
            <div className="row" style={{ gap: 6, marginTop: 6 }}>
              <button className="btn small danger" data-testid="set-apply-destructive" onClick={() => void st.apply(s.applyNeedsConfirm!.set, true, s.applyNeedsConfirm!.withPlan)}>{SET_APPLY_DESTRUCTIVE_LABEL}</button>
              <button className="btn small" onClick={() => app.sets.setState({ applyNeedsConfirm: null })}>Don’t apply</button>
            </div>
          </div>
        )}
        {s.dropNeedsConfirm && (
          <div className="alert error" data-testid="set-drop-confirm" style={{ marginTop: 8 }}>
            <div>{s.dropNeedsConfirm.message}</div>
            <div className="row" style={{ gap: 6, marginTop: 6 }}>
              <button className="btn small danger" data-testid="set-drop-destructive" onClick={() => void st.drop(s.dropNeedsConfirm!.set, true)}>{SET_DROP_DESTRUCTIVE_LABEL}</button>
              <button className="btn small" onClick={() => app.sets.setState({ dropNeedsConfirm: null })}>Keep it</button>
            </div>
          </div>
        )}
        {s.lastDrop && <div className="alert ok" data-testid="set-drop-result" style={{ marginTop: 8 }}>Dropped set “{s.lastDrop.set}”: {s.lastDrop.members.length} tables removed from the target, with their capture on the source.</div>}
        {s.lastVerify && (
          <div className={`alert ${s.lastVerify.equal ? 'ok' : 'error'}`} data-testid="set-verify-result" style={{ marginTop: 8 }}>
            Verified set “{s.lastVerify.set}”: {s.lastVerify.equal ? `every member (${s.lastVerify.members.length}) holds exactly what it should` : `differences in ${s.lastVerify.members.filter((m) => !m.result?.equal).map((m) => m.table).join(', ')}`}.
          </div>
        )}
        {s.lastApply && (
          <div className="alert ok" data-testid="set-apply-result" style={{ marginTop: 8, display: 'block' }}>
            Applied set “{s.lastApply.set}” in one transaction: {s.lastApply.members.length} tables, {s.lastApply.totals.insert} rows inserted, {s.lastApply.totals.update} updated, {s.lastApply.totals.delete} deleted; {s.lastApply.foreignKeysAdded} foreign keys added.
            {s.lastApply.replanned?.length ? (
              <div data-testid="set-replanned">
                Changed since the plan you saw (nothing in it deletes data, so it was applied as recomputed):
                <ul>{s.lastApply.replanned.map((m, i) => <li key={i}>{m.table ? <b>{m.table}</b> : 'set-wide'}: {m.reason}</li>)}</ul>
              </div>
            ) : null}
          </div>
        )}
      </div>
    </div>
  );
}
