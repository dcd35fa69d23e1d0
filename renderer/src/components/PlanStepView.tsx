/** One DDL step as the plan screen and the drop dialog show it: kind, summary, hazards, reason, its exact SQL. */
import type { ReactNode } from 'react';
import type { Hazard, PlanStep } from '../api/types';

export const HAZARD_TEXT: Record<Hazard, string> = {
  'deletes-data': 'deletes data',
  'rewrites-table': 'rewrites the table',
  'exclusive-lock': 'exclusive lock',
  'runs-user-sql': 'runs your SQL',
};

export function PlanStepView({ step, extra }: { step: PlanStep; extra?: ReactNode }) {
  return (
    <div className={`step${step.destructive ? ' destructive' : ''}`} data-step={step.kind}>
      <header>
        <span className="badge">{step.kind}</span>
        <span className="grow">{step.summary}</span>
        {step.hazards.map((h) => (
          <span key={h} className={`badge ${h === 'deletes-data' ? 'danger' : h === 'runs-user-sql' ? 'info' : 'warn'}`}>
            {HAZARD_TEXT[h]}
          </span>
        ))}
        {extra}
      </header>
      {step.reason && <div style={{ padding: '4px 10px', fontSize: 12 }} className="muted">{step.reason}</div>}
      <pre>{step.sql.join('\n')}</pre>
    </div>
  );
}
