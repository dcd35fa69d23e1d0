/**
 * An EXPLAIN plan as a tree: each node with what it works on, estimated cost and rows, actual time
 * and rows where ANALYZE measured them, its conditions, and a bar for its share of the total cost
 * (or of the total time, with ANALYZE) so the expensive part stands out.
 */
import type { PlanNode } from '../api/types';
import { fmtCount, fmtMs } from '../lib/format';

export function PlanTree({ root }: { root: PlanNode }) {
  const analyzed = root.actualTotalMs !== null;
  const total = analyzed ? Math.max(root.actualTotalMs ?? 0, 0.001) : Math.max(root.totalCost, 0.001);
  return (
    <ul className="plan-tree" data-testid="plan-tree">
      <Node n={root} total={total} analyzed={analyzed} />
    </ul>
  );
}

function Node({ n, total, analyzed }: { n: PlanNode; total: number; analyzed: boolean }) {
  // A node's own share: its time (or cost) minus its children's.
  const mine = analyzed ? (n.actualTotalMs ?? 0) * (n.loops ?? 1) : n.totalCost;
  const kids = n.children.reduce((a, c) => a + (analyzed ? (c.actualTotalMs ?? 0) * (c.loops ?? 1) : c.totalCost), 0);
  const self = Math.max(0, mine - kids);
  const pct = Math.min(100, (self / total) * 100);
  const misestimate = analyzed && n.actualRows !== null && n.planRows > 0 && (n.actualRows / n.planRows > 10 || n.planRows / Math.max(n.actualRows, 1) > 10);
  return (
    <li>
      <div className="plan-node" data-node={n.nodeType}>
        <div className="plan-head">
          <b>{n.nodeType}</b> <span className="mono">{n.detail}</span>
          <span className="grow" />
          <span className="faint mono" title="estimated startup..total cost, estimated rows">cost {n.startupCost.toFixed(2)}..{n.totalCost.toFixed(2)} · rows {fmtCount(n.planRows)}</span>
          {analyzed && n.actualTotalMs !== null && (
            <span className={`mono${misestimate ? ' warn-text' : ''}`} title={misestimate ? 'the planner misestimated the rows by more than 10×' : 'measured'}>
              {' '}· {fmtMs(n.actualTotalMs)} · {fmtCount(n.actualRows)} rows{n.loops && n.loops > 1 ? ` × ${n.loops} loops` : ''}
            </span>
          )}
        </div>
        <div className="plan-bar" title={`${pct.toFixed(0)}% of the ${analyzed ? 'time' : 'cost'} is this node's own`}><span style={{ width: `${pct}%` }} /></div>
        {n.extra.length > 0 && <div className="plan-extra mono faint">{n.extra.map((x) => <div key={x}>{x}</div>)}</div>}
      </div>
      {n.children.length > 0 && (
        <ul>
          {n.children.map((c, i) => <Node key={i} n={c} total={total} analyzed={analyzed} />)}
        </ul>
      )}
    </li>
  );
}
