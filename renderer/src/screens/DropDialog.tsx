/**
 * Drop a flow, reviewed like a plan: every step the drop would run, with its SQL and hazards. A step
 * that deletes data (the flow's table holds rows) needs the user's tick before "Drop" is enabled.
 * When the engine refused because objects of someone else's depend on the table (it names them),
 * a second tick offers to drop them too (CASCADE).
 */
import { useState } from 'react';
import { useApp, useS } from '../app-context';
import { ApiCallError } from '../api/client';
import { Modal } from '../components/Modal';
import { PlanStepView } from '../components/PlanStepView';
import { ErrorBox, Loading } from '../components/States';
import { destructiveRefusal, messageWithHowToAllow } from '../lib/refusal';

/** The box that allows a drop to delete data (a refusal's message names it). */
const DROP_ALLOW_LABEL = 'delete the data in these steps';

export function DropDialog() {
  const app = useApp();
  const review = useS(app.flows, (x) => x.dropReview);
  const dropping = useS(app.flows, (x) => x.dropping);
  const [allowed, setAllowed] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [dependents, setDependents] = useState(false);
  const [cascade, setCascade] = useState(false);
  /** The engine refused because the table holds rows now (it had none when the steps were listed). */
  const [refusedDestructive, setRefusedDestructive] = useState(false);
  if (!review) return null;
  const destructive = refusedDestructive || (review.steps?.some((s) => s.destructive) ?? false);
  const close = () => app.flows.getState().closeDropReview();
  const confirm = async () => {
    setError(null);
    try {
      const r = await app.flows.getState().drop(review.name, { allowDestructive: destructive && allowed, cascade: dependents && cascade });
      app.ui.getState().toast('ok', `Dropped “${review.name}”: ${r.steps.length} step(s).`, 6000);
    } catch (e) {
      setError(messageWithHowToAllow(e, `To allow it, tick “${DROP_ALLOW_LABEL}” and click Drop.`));
      if (destructiveRefusal(e)) setRefusedDestructive(true);
      if (e instanceof ApiCallError && Array.isArray(e.detail?.['dependents'])) setDependents(true);
    }
  };
  return (
    <Modal
      title={`Drop “${review.name}”?`}
      onClose={close}
      width={760}
      footer={
        <>
          {destructive && (
            <label className="check grow" style={{ color: 'var(--danger)', fontWeight: 600 }}>
              <input type="checkbox" checked={allowed} onChange={(e) => setAllowed(e.target.checked)} data-testid="drop-allow" />
              {DROP_ALLOW_LABEL}
            </label>
          )}
          {dependents && (
            <label className="check" style={{ color: 'var(--danger)', fontWeight: 600 }}>
              <input type="checkbox" checked={cascade} onChange={(e) => setCascade(e.target.checked)} data-testid="drop-cascade" />
              also drop what depends on the table (CASCADE)
            </label>
          )}
          {!destructive && <span className="grow" />}
          <button className="btn" onClick={close}>Cancel</button>
          <button
            className="btn danger"
            onClick={() => void confirm()}
            disabled={!review.steps || (destructive && !allowed) || (dependents && !cascade) || dropping === review.name}
            data-testid="drop-confirm"
          >
            {dropping === review.name ? 'Dropping…' : 'Drop'}
          </button>
        </>
      }
    >
      <div className="stack" data-testid="drop-steps">
        <p className="muted" style={{ margin: 0 }}>
          This removes what the flow created, in this order. The saved flow itself stays (✕ forgets it).
        </p>
        {review.error && <ErrorBox message={review.error} />}
        {error && <ErrorBox message={error} />}
        {!review.steps && !review.error && <Loading what="what the flow created" />}
        {review.steps?.length === 0 && <span className="faint">Nothing in the databases to remove.</span>}
        {review.steps?.map((s, i) => <PlanStepView key={i} step={s} />)}
      </div>
    </Modal>
  );
}
