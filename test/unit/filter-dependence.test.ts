import { describe, expect, it } from 'vitest';
import { calledFunctions, filterDependence, planConditions } from '../../core/source/filter-dependence';

describe('filter dependence (from the server\'s plan of the filter)', () => {
  const plan = (filter: string, extra: Record<string, unknown> = {}) => [{ Plan: { 'Node Type': 'Limit', Plans: [{ 'Node Type': 'Seq Scan', 'Relation Name': 'events', Filter: filter, ...extra }] } }];

  it('reads the conditions, function names (not in literals or quoted names) and sub-plans', () => {
    const c = planConditions(plan(`((at > (now() - '1 day'::interval)) AND ("weird(" = 'x(y)'::text) AND public.f(id))`));
    expect(c.subPlans).toBe(false);
    expect(calledFunctions(c.conditions)).toEqual(['now', 'f']);
    expect(planConditions(plan('(id = 1)', { Plans: [{ 'Node Type': 'Seq Scan', 'Parent Relationship': 'SubPlan', 'Subplan Name': 'SubPlan 1' }] })).subPlans).toBe(true);
    // a subquery the planner turned into a join: a second table scan
    expect(planConditions([{ Plan: { 'Node Type': 'Hash Join', Plans: [{ 'Relation Name': 'events' }, { 'Relation Name': 'kinds' }] } }]).subPlans).toBe(true);
  });

  it('says what the verdict depends on, or nothing', () => {
    expect(filterDependence({ conditions: [`(at > (now() - '1 day'::interval))`], subPlans: false }, [])).toBe('the time (now())');
    expect(filterDependence({ conditions: [`((at)::date >= (CURRENT_DATE - 1))`], subPlans: false }, [])).toBe('the time (current_date)');
    expect(filterDependence({ conditions: [`(kind <> 'now()'::text)`], subPlans: false }, [])).toBeUndefined();
    expect(filterDependence({ conditions: ['(id = 1)'], subPlans: true }, ['f', 'g'])).toBe('other rows or tables (a subquery), functions f(), g(), not IMMUTABLE (they may read other tables or the time)');
  });
});
