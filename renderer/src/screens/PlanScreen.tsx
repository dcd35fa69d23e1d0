/**
 * The diff preview: one reviewable plan for schema and rows. DDL steps with their exact SQL and
 * hazards (each destructive one needs its own tick), row counts, a row diff grid (inserted, updated
 * cells old → new, deleted, foreign), then apply with progress, cancel and a result summary.
 * Verify (VerifyPanel) shows the rows the target drifted on; the repair tick makes apply fix them.
 */
import { useEffect, useState } from 'react';
import { useApp, useS } from '../app-context';
import { errorMessage } from '../api/client';
import type { Cell, SampleRow } from '../api/types';
import { PlanStepView } from '../components/PlanStepView';
import { Empty, ErrorBox, Loading } from '../components/States';
import { destructiveSteps, nothingToDo } from '../stores/plan';
import { fmtCount, fmtMs } from '../lib/format';
import { useShortcut, keyLabel } from '../lib/shortcuts';
import { conflictResultText, conflictText, initialLoadText, withoutOrdinalText } from '../../../core/api/model.words';
import { VerifyPanel } from './VerifyPanel';

type OpTab = 'all' | SampleRow['op'];

export function PlanScreen({ flow }: { flow: string }) {
  const app = useApp();
  const p = useS(app.plan, (s) => s);
  const [tab, setTab] = useState<OpTab>('all');

  // Every visit plans afresh: the flow, the source or the target may have changed since the last one.
  useEffect(() => {
    if (!app.plan.getState().applying) void app.plan.getState().computePlan(flow);
  }, [flow, app]);

  const apply = () => void app.plan.getState().apply();
  useShortcut('Mod+Shift+Enter', apply, p.canApply());
  useShortcut('Mod+P', () => void app.plan.getState().computePlan(flow));

  const edit = async () => {
    try {
      await app.flows.getState().edit(flow);
      app.ui.getState().go({ name: 'flow-edit' });
    } catch (e) {
      app.ui.getState().toast('error', errorMessage(e));
    }
  };

  const plan = p.flow === flow ? p.plan : null;
  const destructive = destructiveSteps(plan);
  const missingTicks = destructive.filter((i) => !p.allowed.includes(i)).length;
  const samples = plan?.samples.filter((s) => tab === 'all' || s.op === tab) ?? [];
  const cols = plan?.columns.map((c) => c.name) ?? [];
  const keyCols = plan?.columns.filter((c) => c.keyPosition !== null).sort((a, b) => a.keyPosition! - b.keyPosition!).map((c) => c.name) ?? [];
  const valueCols = cols.filter((c) => !keyCols.includes(c));
  const pct = p.percent;

  return (
    <div className="page" data-testid="plan-screen">
      <div className="page-head">
        <h1 className="grow">
          Plan for <span className="mono">{flow}</span>
          {plan && (
            <span className="faint" style={{ fontWeight: 400, fontSize: 12.5, display: 'block', marginTop: 3 }}>
              {plan.source.schema}.{plan.source.table} → {plan.target.schema}.{plan.target.table} · {plan.rowMode === 'ordinal' ? `by ordinal ${plan.source.ordinalColumn ?? ''}` : 'by fingerprint'} · computed {new Date(plan.computedAt).toLocaleTimeString()}
            </span>
          )}
        </h1>
        <button className="btn" onClick={() => void edit()}>Edit flow</button>
        <button className="btn" onClick={() => void app.plan.getState().computePlan(flow)} disabled={p.planning || p.applying} data-testid="recompute-plan">
          {p.planning ? <><span className="spinner" /> Planning…</> : 'Recompute'}
        </button>
        <button className="btn" onClick={() => app.ui.getState().go({ name: 'monitor', flow })}>Monitor</button>
        <button className="btn" onClick={() => void app.plan.getState().runVerify(flow)} disabled={p.verifying || p.applying} data-testid="verify-flow" title="Compare what the target holds with what the flow says it should hold (finds hand edits)">
          {p.verifying ? <><span className="spinner" /> Verifying…</> : 'Verify'}
        </button>
        <button className="btn primary" onClick={apply} disabled={!p.canApply()} data-testid="apply-plan" title={missingTicks ? 'Tick each destructive step to allow it' : keyLabel('Mod+Shift+Enter')}>
          Apply <kbd>{keyLabel('Mod+Shift+↵')}</kbd>
        </button>
      </div>

      {p.staleNotice && <div className="alert warn" style={{ marginBottom: 12 }} data-testid="stale-notice">{p.staleNotice}</div>}
      {p.error && <ErrorBox message={p.error} testId="plan-error" action={<button className="btn small" onClick={() => void app.plan.getState().computePlan(flow)}>Retry</button>} />}
      {p.planning && !plan && (
        <div className="row" style={{ padding: 20 }}>
          <span className="spinner" /> Computing the plan (reads source and target; writes nothing)…
          <button className="btn small" onClick={() => void app.plan.getState().cancel()}>Cancel</button>
        </div>
      )}
      {!p.planning && !plan && !p.error && <Loading what="Preparing…" />}

      {p.cancelled && (
        <div className="alert info" style={{ marginBottom: 12 }} data-testid="cancelled-notice">
          {p.cancelled === 'apply' ? 'You cancelled the apply: nothing was written, the target is as it was before.' : 'You cancelled the plan.'}
          {p.cancelled === 'plan' && <button className="btn small" style={{ marginLeft: 8 }} onClick={() => void app.plan.getState().computePlan(flow)}>Plan again</button>}
        </div>
      )}
      {(p.applying || p.progress || p.result || p.applyError) && (
        <section className="panel" style={{ marginBottom: 14 }} data-testid="apply-panel">
          <header>
            <h2 className="grow">{p.applying ? 'Applying…' : p.result ? 'Applied' : 'Apply'}</h2>
            {p.applying && (
              <button className="btn small danger" onClick={() => void app.plan.getState().cancel()} data-testid="cancel-apply">
                Cancel
              </button>
            )}
          </header>
          <div className="content stack">
            {p.applying && (
              <>
                <div className={`progress${pct === null ? ' indeterminate' : ''}`} data-testid="apply-progress" role="progressbar" aria-valuenow={pct ?? undefined}>
                  <div style={{ width: `${pct ?? 30}%` }} />
                </div>
                <div className="muted" data-testid="apply-phase">
                  {p.progress ? `${p.progress.phase}${p.progress.rowsTotal ? ` · ${fmtCount(p.progress.rowsDone)} / ${fmtCount(p.progress.rowsTotal)} rows` : p.progress.rowsDone ? ` · ${fmtCount(p.progress.rowsDone)} rows` : ''}${p.progress.message ? ` · ${p.progress.message}` : ''}` : 'starting…'}
                </div>
              </>
            )}
            {p.result && (
              <div className="alert ok" data-testid="apply-result">
                <div className="grow">
                  Done in {fmtMs(p.result.durationMs)}: {fmtCount(p.result.rows.insert)} inserted, {fmtCount(p.result.rows.update)} updated, {fmtCount(p.result.rows.delete)} deleted, {fmtCount(p.result.rows.unchanged)} unchanged; {p.result.stepsRun} schema step(s).
                  {p.result.rows.conflict ? ` ${capitalize(conflictResultText(p.result.rows.conflict, (p.result.tookOver ?? 0) > 0))}.` : ''}
                  {p.result.replanned && ' (The plan was recomputed before running because something had changed.)'}
                  {p.result.repaired && ` Repaired drift: ${fmtCount(p.result.repaired.changed)} changed, ${fmtCount(p.result.repaired.missing)} missing, ${fmtCount(p.result.repaired.extra)} extra row(s).`}
                  {p.result.initialLoad && <span data-testid="apply-initial-load"> Initial load: {p.result.initialLoad.how}.</span>}
                </div>
                <button className="btn small" onClick={() => app.ui.getState().go({ name: 'monitor', flow })}>Watch live →</button>
              </div>
            )}
            {p.applyError && <ErrorBox message={p.applyError} testId="apply-error" />}
          </div>
        </section>
      )}

      {plan && (
        <div className="stack">
          {plan.blockers.length > 0 && (
            <div className="alert error" data-testid="blockers">
              <div>
                <b>Apply is blocked:</b>
                <ul style={{ margin: '4px 0 0', paddingLeft: 18 }}>
                  {plan.blockers.map((b, i) => (
                    <li key={i}>{b.message} <span className="code">{b.code}</span></li>
                  ))}
                </ul>
              </div>
            </div>
          )}
          {(p.verify || p.verifying || p.verifyError) && p.flow === flow && (
            <VerifyPanel
              plan={plan}
              verify={p.verify}
              verifying={p.verifying}
              error={p.verifyError}
              repair={p.repair}
              onRepair={(r) => app.plan.getState().setRepair(r)}
              onCancel={() => void app.plan.getState().cancel()}
            />
          )}
          {nothingToDo(plan, p.takeOver) && plan.blockers.length === 0 && (plan.rows.conflict ?? 0) === 0 && !(p.verify && !p.verify.equal) && (
            <div className="alert ok" data-testid="in-sync">The target is in sync: applying now would change nothing.</div>
          )}
          {plan.warnings.map((w, i) => (
            <div key={i} className="alert warn">{w}</div>
          ))}

          <div className="counts" data-testid="plan-counts">
            {(['insert', 'update', 'delete', 'unchanged', 'foreign', ...(plan.rows.conflict !== undefined ? ['conflict' as const] : [])] as const).map((k) => (
              <div key={k} className={`count-card ${k}`} data-count={k}>
                <div className="n">{fmtCount(plan.rows[k] ?? 0)}</div>
                <div className="l">{k === 'foreign' ? 'not owned (left alone)' : k === 'conflict' ? 'yours, also in the source' : k === 'insert' ? 'to insert' : k === 'update' ? 'to update' : k === 'delete' ? 'to delete' : 'unchanged'}</div>
              </div>
            ))}
          </div>
          {(plan.rows.conflict ?? 0) > 0 && (
            <div className="alert warn" data-testid="conflicts">
              <div className="grow">
                <b>Conflicts:</b> {conflictText(plan.rows.conflict!)}. They are rows of {plan.target.schema}.{plan.target.table} that this flow did not write; see them under “Yours” below.
              </div>
              <label className="check" style={{ fontWeight: 600 }}>
                <input type="checkbox" checked={p.takeOver} onChange={(e) => app.plan.getState().setTakeOver(e.target.checked)} data-testid="take-over" />
                take them over
              </label>
            </div>
          )}
          {plan.initialLoad && (
            <div className="muted" data-testid="plan-initial-load" title="The first apply into a new table copies the rows straight in (no diff), split into key ranges read from one snapshot; the table appears when the apply commits.">
              <b>Initial load:</b> {initialLoadText(plan.initialLoad)} · <a className="link" onClick={() => void edit()} data-testid="change-initial-load">change in the flow</a>
            </div>
          )}
          {plan.withoutOrdinal ? (
            <div className="muted" data-testid="without-ordinal" title="Their ordinal is NULL, so a fingerprint of their values (computed by the source server) decides whether they changed.">
              {withoutOrdinalText(plan.withoutOrdinal)}
            </div>
          ) : null}

          <section className="panel">
            <header>
              <h2 className="grow">Schema steps ({plan.steps.length})</h2>
              {destructive.length > 0 && (
                <span className={`badge ${missingTicks ? 'danger' : 'ok'}`}>
                  {missingTicks ? `${missingTicks} destructive step(s) need your tick` : 'destructive steps allowed'}
                </span>
              )}
            </header>
            <div className="content stack" data-testid="plan-steps">
              {plan.steps.length === 0 && <span className="faint">No schema changes: the target already has the right shape.</span>}
              {plan.steps.map((s, i) => (
                <PlanStepView
                  key={i}
                  step={s}
                  extra={s.destructive && (
                    <label className="check" style={{ color: 'var(--danger)', fontWeight: 600 }}>
                      <input type="checkbox" checked={p.allowed.includes(i)} onChange={(e) => app.plan.getState().setAllowed(i, e.target.checked)} data-testid={`allow-step-${i}`} />
                      allow
                    </label>
                  )}
                />
              ))}
            </div>
          </section>

          <section className="panel">
            <header>
              <h2 className="grow">Row changes {plan.samples.length > 0 && <span className="faint" style={{ fontWeight: 400 }}>— a sample of {plan.samples.length}</span>}</h2>
            </header>
            <div className="tabs" role="tablist">
              {(['all', 'insert', 'update', 'delete', 'foreign', ...((plan.rows.conflict ?? 0) > 0 ? ['conflict' as const] : [])] as const).map((t) => (
                <button key={t} role="tab" aria-selected={tab === t} onClick={() => setTab(t)} data-testid={`diff-tab-${t}`}>
                  {t === 'all' ? 'All' : t === 'insert' ? 'Inserted' : t === 'update' ? 'Updated' : t === 'delete' ? 'Deleted' : t === 'conflict' ? 'Yours' : 'Not owned'}{' '}
                  <span className="faint">{t === 'all' ? plan.samples.length : plan.samples.filter((x) => x.op === t).length}</span>
                </button>
              ))}
            </div>
            <div style={{ overflow: 'auto', maxHeight: 420 }}>
              {samples.length === 0 ? (
                <div className="empty" style={{ padding: 24 }}>{plan.samples.length === 0 ? 'No row changes: the target already holds exactly these rows.' : 'None of this kind in the sample.'}</div>
              ) : (
                <table className="diff-table" data-testid="diff-grid">
                  <thead>
                    <tr>
                      <th>op</th>
                      {keyCols.map((c) => <th key={c}>{c} <span className="key-badge">PK</span></th>)}
                      {valueCols.map((c) => <th key={c}>{c}</th>)}
                    </tr>
                  </thead>
                  <tbody>
                    {samples.map((r, i) => (
                      <tr key={i} className={`op-${r.op}`} data-op={r.op}>
                        <td style={{ fontFamily: 'var(--sans)' }} title={r.op === 'foreign' ? 'in the target, but not written by this flow: left alone' : r.op === 'conflict' ? 'you wrote this row and the source has its key: left alone unless you tick “take them over” (then old → new)' : undefined}>{r.op === 'foreign' ? 'not owned' : r.op === 'conflict' ? 'yours' : r.op}</td>
                        {keyCols.map((c) => <td key={c}><Val v={r.key[c] ?? r.after?.[c] ?? r.before?.[c] ?? null} /></td>)}
                        {valueCols.map((c) => <DiffCell key={c} row={r} col={c} />)}
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          </section>
        </div>
      )}
      {!plan && !p.planning && p.error === null && !p.applying && <Empty title="No plan yet" />}
    </div>
  );
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function Val({ v }: { v: Cell | undefined }) {
  if (v === null || v === undefined) return <span className="null">NULL</span>;
  return <>{v}</>;
}

function DiffCell({ row, col }: { row: SampleRow; col: string }) {
  if ((row.op === 'update' || row.op === 'conflict') && row.changed?.includes(col)) {
    return (
      <td className="changed" data-changed={col} title={`${row.before?.[col] ?? 'NULL'} → ${row.after?.[col] ?? 'NULL'}`}>
        <span className="old"><Val v={row.before?.[col]} /></span> → <span className="new"><Val v={row.after?.[col]} /></span>
      </td>
    );
  }
  const v = row.op === 'insert' || row.op === 'update' ? row.after?.[col] : row.before?.[col];
  return <td><Val v={v} /></td>;
}
