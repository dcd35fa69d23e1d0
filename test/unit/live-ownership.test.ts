// The ownership rules of core/live/ownership.ts, case by case (the integration tests
// live-channel-collision and live-partition-truncate run them against PostgreSQL): what may be
// replaced, what is refused, what drop removes and what it leaves alone.
import { describe, expect, it } from 'vitest';
import { captureNames } from '../../core/api/names';
import { functionComment, triggerComment, ROW_TRIGGER_TYPE, TRUNCATE_TRIGGER_TYPE } from '../../core/live/capture-sql';
import { judgeInstall, planDrop, type CaptureCatalog, type TriggerRow } from '../../core/live/ownership';

const names = captureNames('f', 'items', 'ch');
const items = { schema: 'public', table: 'items' };
const owner = (flow: string, table = 'items') => ({ flow, schema: 'public', table, channel: 'ch' });
const trig = (o: Partial<TriggerRow>): TriggerRow => ({
  schema: 'public', table: 'items', name: 'ch_t', calls: 'ch_n()', callsOurFunction: true, type: ROW_TRIGGER_TYPE, always: true, comment: triggerComment(owner('f')), ...o,
});
const catalog = (o: Partial<CaptureCatalog> = {}): CaptureCatalog => ({
  table: { oid: '1', relkind: 'r', owner: 'me', isOwner: true },
  currentUser: 'me',
  relations: [{ oid: '1', schema: 'public', table: 'items', root: true }],
  triggers: [],
  otherCaptureFunctions: [],
  ...o,
});
const installed = (hash: string, flow = 'f') => catalog({
  fn: { oid: '9', signature: 'ch_n()', comment: functionComment(hash, owner(flow)) },
  triggers: [trig({ comment: triggerComment(owner(flow)) }), trig({ name: 'ch_r', type: TRUNCATE_TRIGGER_TYPE, comment: triggerComment(owner(flow)) })],
});

describe('capture ownership', () => {
  it('a full installation of this flow is current; a different hash is not, and may be replaced', () => {
    expect(judgeInstall(installed('aa'), 'f', items, names, 'aa')).toEqual({ conflicts: [], retire: [], current: true });
    expect(judgeInstall(installed('aa'), 'f', items, names, 'bb')).toEqual({ conflicts: [], retire: [], current: false });
    expect(judgeInstall(catalog(), 'f', items, names, 'bb')).toEqual({ conflicts: [], retire: [], current: false });
  });

  it('refuses a function of another flow, and one without a marker', () => {
    expect(judgeInstall(installed('aa', 'g'), 'f', items, names, 'aa').conflicts.join()).toMatch(/belongs to TableSync flow "g"/);
    const user = catalog({ fn: { oid: '9', signature: 'ch_n()', comment: 'my audit function' } });
    expect(judgeInstall(user, 'f', items, names, 'aa').conflicts.join()).toMatch(/function "public"."ch_n"\(\) already exists and is not TableSync's/);
  });

  it('refuses a trigger of our name that calls someone else\'s function, and one of another flow', () => {
    const c = catalog({ triggers: [trig({ callsOurFunction: false, calls: 'audit()', comment: null })] });
    expect(judgeInstall(c, 'f', items, names, 'aa').conflicts.join()).toMatch(/trigger "ch_t" on "public"."items" already exists and is not TableSync's \(it calls audit\(\)\)/);
    const g = catalog({ triggers: [trig({ comment: triggerComment(owner('g')) })] });
    expect(judgeInstall(g, 'f', items, names, 'aa').conflicts.join()).toMatch(/belongs to TableSync flow "g"/);
  });

  it('refuses when a trigger that is not ours calls our function (replacing it would break that table\'s writes)', () => {
    const c = installed('aa');
    c.triggers.push(trig({ table: 'elsewhere', name: 'their_trigger', comment: null }));
    expect(judgeInstall(c, 'f', items, names, 'aa').conflicts.join()).toMatch(/trigger "their_trigger" on "public"."elsewhere" \(not TableSync's\) calls "public"."ch_n"\(\)/);
    expect(judgeInstall(c, 'f', items, names, 'aa').retire).toEqual([]);
    // and drop leaves it, and the function it calls
    expect(planDrop(c, 'f', items, names).statements).toEqual(['DROP TRIGGER IF EXISTS "ch_t" ON "public"."items"', 'DROP TRIGGER IF EXISTS "ch_r" ON "public"."items"']);
  });

  it('retires this flow\'s triggers on a table it no longer reads before replacing the function', () => {
    const c = catalog({
      fn: { oid: '9', signature: 'ch_n()', comment: functionComment('aa', owner('f', 'old_items')) },
      triggers: [trig({ table: 'old_items', comment: triggerComment(owner('f', 'old_items')) })],
    });
    const j = judgeInstall(c, 'f', items, names, 'aa');
    expect(j.conflicts).toEqual([]);
    expect(j.retire.map((g) => g.table)).toEqual(['old_items']);
    expect(j.current).toBe(false);
  });

  it('adopts an earlier TableSync\'s unmarked objects on this table, and refuses them when they serve another table', () => {
    const legacy = 'tablesync live capture [0123]: notifies channel ch';
    const here = catalog({ fn: { oid: '9', signature: 'ch_n()', comment: legacy }, triggers: [trig({ comment: null }), trig({ name: 'ch_r', type: TRUNCATE_TRIGGER_TYPE, comment: null })] });
    expect(judgeInstall(here, 'f', items, names, 'aa')).toMatchObject({ conflicts: [], current: false });
    expect(planDrop(here, 'f', items, names).statements).toEqual([
      'DROP TRIGGER IF EXISTS "ch_t" ON "public"."items"',
      'DROP TRIGGER IF EXISTS "ch_r" ON "public"."items"',
      'DROP FUNCTION IF EXISTS "public"."ch_n"()',
    ]);
    const shared = catalog({ fn: { oid: '9', signature: 'ch_n()', comment: legacy }, triggers: [trig({ table: 'customers', comment: null })] });
    expect(judgeInstall(shared, 'f', items, names, 'aa').conflicts.join()).toMatch(/made by an earlier TableSync for "public"."customers"/);
    // drop leaves the other table's trigger, and so the function it still calls
    expect(planDrop(shared, 'f', items, names)).toEqual({ statements: [], leftAlone: ['trigger "ch_t" on "public"."customers" (not TableSync\'s)', 'function "public"."ch_n"() (still called by 1 other trigger)'] });
  });

  it('refuses a channel that another flow\'s function notifies, in any schema', () => {
    const c = catalog({ otherCaptureFunctions: [{ signature: 'other.ch_n()', comment: functionComment('aa', { flow: 'g', schema: 'other', table: 't', channel: 'ch' }) }] });
    expect(judgeInstall(c, 'f', items, names, 'aa').conflicts.join()).toMatch(/the channel "ch" is already used by TableSync flow "g" \(capturing "other"."t"\)/);
    const same = catalog({ otherCaptureFunctions: [{ signature: 'other.ch_n()', comment: functionComment('aa', { flow: 'f', schema: 'other', table: 't', channel: 'ch' }) }] });
    expect(judgeInstall(same, 'f', items, names, 'aa').conflicts).toEqual([]);
  });

  it('drop removes triggers of this flow on partitions and detached tables, and nothing of the user\'s', () => {
    const c = installed('aa');
    c.triggers.push(trig({ table: 'items_2024', name: 'ch_r', type: TRUNCATE_TRIGGER_TYPE }));
    c.triggers.push(trig({ table: 'items', name: 'ch_x', callsOurFunction: false, calls: 'audit()', comment: null }));
    const plan = planDrop(c, 'f', items, names);
    expect(plan.statements).toEqual([
      'DROP TRIGGER IF EXISTS "ch_t" ON "public"."items"',
      'DROP TRIGGER IF EXISTS "ch_r" ON "public"."items"',
      'DROP TRIGGER IF EXISTS "ch_r" ON "public"."items_2024"',
      'DROP FUNCTION IF EXISTS "public"."ch_n"()',
    ]);
    expect(plan.leftAlone).toEqual(['trigger "ch_x" on "public"."items" (not TableSync\'s)']);
    expect(planDrop(installed('aa', 'g'), 'f', items, names).statements).toEqual([]);
  });

  it('retiring the old table of a moved flow leaves the capture of its new table, and the function', () => {
    const c = catalog({
      relations: [{ oid: '2', schema: 'public', table: 'old_items', root: true }],
      fn: { oid: '9', signature: 'ch_n()', comment: functionComment('aa', owner('f')) },
      triggers: [trig({ table: 'old_items', comment: triggerComment(owner('f', 'old_items')) }), trig({ comment: triggerComment(owner('f')) })],
    });
    const old = { schema: 'public', table: 'old_items' };
    expect(planDrop(c, 'f', old, names, { onlyTable: true })).toEqual({ statements: ['DROP TRIGGER IF EXISTS "ch_t" ON "public"."old_items"'], leftAlone: ['function "public"."ch_n"() (still called by 1 other trigger)'] });
    expect(planDrop(c, 'f', old, names).statements).toHaveLength(3);
  });
});
