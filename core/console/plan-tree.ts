/**
 * EXPLAIN (FORMAT JSON) → a PlanNode tree a person can read, plus a text rendition in the spirit of
 * PostgreSQL's own (`->  Index Scan using orders_pkey on orders  (cost=… rows=…) (actual …)`).
 */
import type { PlanNode } from '../api/contract.console';

type Json = Record<string, unknown>;

const EXTRA_KEYS = [
  'Index Cond', 'Recheck Cond', 'Hash Cond', 'Merge Cond', 'Join Filter', 'Filter', 'Rows Removed by Filter',
  'Rows Removed by Join Filter', 'Sort Key', 'Sort Method', 'Group Key', 'Presorted Key', 'Heap Fetches', 'Workers Planned',
  'Workers Launched', 'Shared Hit Blocks', 'Shared Read Blocks', 'Subplan Name', 'CTE Name', 'Function Name',
];

const numOrNull = (v: unknown): number | null => (typeof v === 'number' ? v : null);

export function toPlanNode(p: Json): PlanNode {
  const parts: string[] = [];
  if (typeof p['Index Name'] === 'string') parts.push(`using ${String(p['Index Name'])}`);
  if (typeof p['Relation Name'] === 'string') {
    const rel = p['Schema'] ? `${String(p['Schema'])}.${String(p['Relation Name'])}` : String(p['Relation Name']);
    parts.push(`on ${rel}${p['Alias'] && p['Alias'] !== p['Relation Name'] ? ` ${String(p['Alias'])}` : ''}`);
  } else if (typeof p['CTE Name'] === 'string') parts.push(`on ${String(p['CTE Name'])}`);
  else if (typeof p['Function Name'] === 'string') parts.push(`on ${String(p['Function Name'])}()`);
  if (typeof p['Join Type'] === 'string' && p['Join Type'] !== 'Inner') parts.push(`(${String(p['Join Type'])})`);
  if (typeof p['Parent Relationship'] === 'string' && ['InitPlan', 'SubPlan'].includes(String(p['Parent Relationship']))) parts.push(`[${String(p['Parent Relationship'])}]`);
  const extra: string[] = [];
  for (const k of EXTRA_KEYS) {
    const v = p[k];
    if (v === undefined || v === null) continue;
    if (k === 'CTE Name' || k === 'Function Name') continue;
    if (typeof v === 'number' && v === 0 && k.startsWith('Rows Removed')) continue;
    extra.push(`${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`);
  }
  const children = Array.isArray(p['Plans']) ? (p['Plans'] as Json[]).map(toPlanNode) : [];
  return {
    // EXPLAIN's text form calls a ModifyTable node by its operation (`Delete on items`).
    nodeType: p['Node Type'] === 'ModifyTable' && typeof p['Operation'] === 'string' ? String(p['Operation']) : String(p['Node Type'] ?? '?'),
    detail: parts.join(' '),
    startupCost: Number(p['Startup Cost'] ?? 0),
    totalCost: Number(p['Total Cost'] ?? 0),
    planRows: Number(p['Plan Rows'] ?? 0),
    actualTotalMs: numOrNull(p['Actual Total Time']),
    actualRows: numOrNull(p['Actual Rows']),
    loops: numOrNull(p['Actual Loops']),
    extra,
    children,
  };
}

/** The JSON EXPLAIN prints (one element: `{ Plan, Planning Time?, Execution Time? }`). */
export function parseExplainJson(text: string): { root: PlanNode; planningMs: number | null; executionMs: number | null } {
  const parsed = JSON.parse(text) as Json[] | Json;
  const top = (Array.isArray(parsed) ? parsed[0] : parsed) as Json;
  return {
    root: toPlanNode(top['Plan'] as Json),
    planningMs: numOrNull(top['Planning Time']),
    executionMs: numOrNull(top['Execution Time']),
  };
}

/** An indented text rendition of the tree. */
export function planText(root: PlanNode, timing: { planningMs: number | null; executionMs: number | null } = { planningMs: null, executionMs: null }): string {
  const lines: string[] = [];
  const walk = (n: PlanNode, depth: number) => {
    const pad = depth === 0 ? '' : `${' '.repeat(depth * 6 - 6)}  ->  `;
    const actual = n.actualTotalMs !== null ? ` (actual time=${n.actualTotalMs.toFixed(3)} rows=${n.actualRows} loops=${n.loops})` : '';
    lines.push(`${pad}${n.nodeType}${n.detail ? ` ${n.detail}` : ''}  (cost=${n.startupCost.toFixed(2)}..${n.totalCost.toFixed(2)} rows=${n.planRows})${actual}`);
    const inner = ' '.repeat(depth === 0 ? 2 : depth * 6 + 2);
    for (const x of n.extra) lines.push(`${inner}${x}`);
    for (const c of n.children) walk(c, depth + 1);
  };
  walk(root, 0);
  if (timing.planningMs !== null) lines.push(`Planning Time: ${timing.planningMs.toFixed(3)} ms`);
  if (timing.executionMs !== null) lines.push(`Execution Time: ${timing.executionMs.toFixed(3)} ms`);
  return lines.join('\n');
}
