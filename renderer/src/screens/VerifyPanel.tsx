/**
 * Verify on the plan screen: what the target holds against what the flow says it should hold
 * (flows.verify, computed by the servers). Counts of changed, missing and extra rows and a grid of
 * them (changed cells old → new), and the tick that makes the next apply repair them.
 */
import type { Cell, Plan, VerifyResult, VerifyRow } from '../api/types';
import { ErrorBox } from '../components/States';
import { fmtCount, fmtMs } from '../lib/format';

type Kind = 'changed' | 'missing' | 'extra';
const KIND_CLASS: Record<Kind, string> = { changed: 'op-update', missing: 'op-insert', extra: 'op-delete' };
const KIND_TEXT: Record<Kind, string> = {
  changed: 'values differ from the source',
  missing: 'the source has it, the target does not',
  extra: 'written by this flow, the source no longer has it',
};

export function VerifyPanel({ plan, verify, verifying, error, repair, onRepair, onCancel }: {
  plan: Plan | null;
  verify: VerifyResult | null;
  verifying: boolean;
  error: string | null;
  repair: boolean;
  onRepair: (repair: boolean) => void;
  onCancel: () => void;
}) {
  const keyCols = plan?.columns.filter((c) => c.keyPosition !== null).sort((a, b) => a.keyPosition! - b.keyPosition!).map((c) => c.name) ?? [];
  const valueCols = (plan?.columns.map((c) => c.name) ?? []).filter((c) => !keyCols.includes(c));
  const rows: [Kind, VerifyRow][] = verify ? (['changed', 'missing', 'extra'] as const).flatMap((k) => verify[k].map((r): [Kind, VerifyRow] => [k, r])) : [];
  const drift = verify !== null && !verify.equal;
  return (
    <section className="panel" data-testid="verify-panel">
      <header>
        <h2 className="grow">Verify {verify && <span className="faint" style={{ fontWeight: 400 }}>— {fmtCount(verify.sourceRows)} source rows against {fmtCount(verify.targetRows)} target rows in {fmtMs(verify.durationMs)}</span>}</h2>
        {verifying && <button className="btn small" onClick={onCancel}>Cancel</button>}
        {drift && (
          <label className="check" style={{ fontWeight: 600 }} title="The next apply also rewrites exactly these rows, in the same transaction">
            <input type="checkbox" checked={repair} onChange={(e) => onRepair(e.target.checked)} data-testid="repair-tick" />
            repair them with this apply
          </label>
        )}
      </header>
      <div className="content stack">
        {verifying && <div className="row"><span className="spinner" /> Hashing both sides on the servers (writes nothing)…</div>}
        {error && <ErrorBox message={error} testId="verify-error" />}
        {verify && verify.equal && (
          <div className="alert ok" data-testid="verify-equal">
            The target holds exactly what the flow says it should{verify.counts.notOwned ? ` (${fmtCount(verify.counts.notOwned)} source row(s) have a key held by a row this flow did not write: left alone)` : ''}.
          </div>
        )}
        {drift && (
          <>
            <div className="alert warn" data-testid="verify-drift">
              The target drifted from the flow (edited by hand?): a plan cannot see this, because the source did not change.
              Tick "repair them with this apply" and apply to rewrite exactly these rows.
            </div>
            <div className="counts" data-testid="verify-counts">
              {(['changed', 'missing', 'extra'] as const).map((k) => (
                <div key={k} className={`count-card ${k === 'changed' ? 'update' : k === 'missing' ? 'insert' : 'delete'}`} data-count={k} title={KIND_TEXT[k]}>
                  <div className="n">{fmtCount(verify.counts[k])}</div>
                  <div className="l">{k}</div>
                </div>
              ))}
            </div>
            <div style={{ overflow: 'auto', maxHeight: 360 }}>
              <table className="diff-table" data-testid="verify-grid">
                <thead>
                  <tr>
                    <th>drift</th>
                    {keyCols.map((c) => <th key={c}>{c} <span className="key-badge">PK</span></th>)}
                    {valueCols.map((c) => <th key={c}>{c}</th>)}
                  </tr>
                </thead>
                <tbody>
                  {rows.map(([kind, r], i) => (
                    <tr key={i} className={KIND_CLASS[kind]} data-drift={kind} title={KIND_TEXT[kind]}>
                      <td style={{ fontFamily: 'var(--sans)', textDecoration: 'none' }}>{kind}</td>
                      {keyCols.map((c) => <td key={c}><Val v={r.key[c] ?? null} /></td>)}
                      {valueCols.map((c) => <DriftCell key={c} kind={kind} row={r} col={c} />)}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {verify.truncated && <div className="faint">Lists are capped; the counts above are complete.</div>}
          </>
        )}
        {verify?.warnings.map((w, i) => <div key={i} className="alert warn">{w}</div>)}
      </div>
    </section>
  );
}

function Val({ v }: { v: Cell | undefined }) {
  if (v === undefined) return <span className="faint">…</span>;
  if (v === null) return <span className="null">NULL</span>;
  return <>{v}</>;
}

function DriftCell({ kind, row, col }: { kind: Kind; row: VerifyRow; col: string }) {
  if (kind === 'changed' && row.changed?.includes(col)) {
    return (
      <td className="changed" data-changed={col} title={`${row.before?.[col] ?? 'NULL'} → ${row.after?.[col] ?? 'NULL'}`}>
        <span className="old"><Val v={row.before?.[col]} /></span> → <span className="new"><Val v={row.after?.[col]} /></span>
      </td>
    );
  }
  const v = kind === 'missing' ? row.after?.[col] : row.before?.[col] ?? row.after?.[col];
  return <td><Val v={v} /></td>;
}
