/**
 * Whether a filter's verdict on a row can change while the row does not: it depends on the time
 * (`created_at > now() - interval '30 days'`), or reads other rows or tables (a subquery, a
 * function that is not IMMUTABLE). Live capture and catch-ups see changed rows only, so such a
 * filter lets rows enter or leave it unseen until the next apply (which evaluates every row). The
 * plan says so (a warning); nothing is refused, as such filters are legitimate.
 *
 * Read from the server's own plan of `SELECT FROM t WHERE (filter)` (EXPLAIN VERBOSE, JSON): its
 * conditions as PostgreSQL deparsed them (comments gone, SQL functions inlined, constants folded)
 * and its sub-plans. Node-free: the server's part is filter.ts.
 */

/**
 * The conditions of a plan (EXPLAIN FORMAT JSON's nodes), and whether it reads more than the one
 * table: a sub-plan, or a second table scan (a subquery the planner made a join of).
 */
export function planConditions(plan: unknown): { conditions: string[]; subPlans: boolean } {
  const conditions: string[] = [];
  let subPlans = false;
  let relations = 0;
  const keys = new Set(['Filter', 'One-Time Filter', 'Index Cond', 'Recheck Cond', 'Join Filter', 'Hash Cond', 'TID Cond']);
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) { n.forEach(walk); return; }
    if (!n || typeof n !== 'object') return;
    for (const [k, v] of Object.entries(n as Record<string, unknown>)) {
      if (keys.has(k) && typeof v === 'string') conditions.push(v);
      else if (k === 'Relation Name') relations++;
      else if ((k === 'Parent Relationship' && (v === 'SubPlan' || v === 'InitPlan')) || k === 'Subplan Name') subPlans = true;
      else if (typeof v === 'object') walk(v);
    }
  };
  walk(plan);
  return { conditions, subPlans: subPlans || relations > 1 };
}

/** Deparsed SQL without its string literals and quoted identifiers (their text is not code). */
function codeOnly(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'/g, "''").replace(/"(?:[^"]|"")*"/g, '""');
}

const TIME = /\b(now|clock_timestamp|statement_timestamp|transaction_timestamp|timeofday)\s*\(|\b(current_date|current_timestamp|current_time|localtimestamp|localtime)\b/i;

const RANDOM = /\b(random|random_normal)\s*\(/i;
/** Words of SQL's syntax that a parenthesis may follow: not function calls. */
const SYNTAX = new Set(['and', 'or', 'not', 'in', 'any', 'all', 'some', 'exists', 'array', 'row', 'values', 'case', 'when', 'then', 'else', 'end', 'between', 'like', 'ilike', 'similar', 'is', 'as', 'on', 'cast', 'coalesce', 'nullif', 'greatest', 'least', 'filter', 'over', 'distinct', 'from']);

/** The names of the functions the conditions call (lower case, unqualified). */
export function calledFunctions(conditions: readonly string[]): string[] {
  const out = new Set<string>();
  for (const c of conditions) for (const m of codeOnly(c).matchAll(/([A-Za-z_][A-Za-z0-9_$]*)\s*\(/g)) if (!SYNTAX.has(m[1]!.toLowerCase())) out.add(m[1]!.toLowerCase());
  return [...out];
}

/**
 * What the verdict depends on besides the row, in words for the plan's warning, or undefined.
 * `mutable`: the called functions (calledFunctions) that are not IMMUTABLE and not PostgreSQL's own.
 */
export function filterDependence(c: { conditions: readonly string[]; subPlans: boolean }, mutable: readonly string[]): string | undefined {
  const reasons: string[] = [];
  const time = c.conditions.map((x) => codeOnly(x).match(TIME)).find((m) => m);
  if (time) reasons.push(`the time (${(time[1] ? `${time[1]}()` : time[2]!).toLowerCase()})`);
  const chance = c.conditions.map((x) => codeOnly(x).match(RANDOM)).find((m) => m);
  if (chance) reasons.push(`chance (${chance[1]!.toLowerCase()}())`);
  if (c.subPlans) reasons.push('other rows or tables (a subquery)');
  if (mutable.length) reasons.push(`function${mutable.length > 1 ? 's' : ''} ${mutable.map((f) => `${f}()`).join(', ')}, not IMMUTABLE (${mutable.length > 1 ? 'they' : 'it'} may read other tables or the time)`);
  return reasons.length ? reasons.join(', ') : undefined;
}

/** The plan's warning for a filter that depends on `what` (filterDependence). */
export function filterDependenceWarning(what: string): string {
  return `the filter depends on ${what}: a row can enter or leave it without changing, which live capture and catch-ups do not see (they follow changed rows); each apply evaluates every row again`;
}
