import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, planFlow } from '../../core/target';
import { rowsOf, sourceAndTarget, type Pair } from './target-fixture';

// Rows the flow did not write are left alone and shown as foreign; rows it wrote are deleted when
// the source loses them; a row you wrote whose key the source also has is a conflict, left alone
// until an apply is allowed to take it over (see target-user-conflicts.test.ts).
describe('owned versus foreign rows', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget();
    await t.src.sql(`CREATE TABLE s (id int PRIMARY KEY, v text)`);
    await t.src.sql(`INSERT INTO s VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
    await t.tgt.sql(`CREATE TABLE u (id int PRIMARY KEY, v text, note text DEFAULT 'kept')`);
    await t.tgt.sql(`INSERT INTO u (id, v) VALUES (3, 'old three'), (100, 'mine'), (101, 'also mine')`);
  });
  afterAll(async () => { await t.close(); });

  it('user-managed: upserts the source rows, leaves foreign rows, deletes only owned rows', async () => {
    const ctx = t.ctx({ name: 'own_u', source: { table: 's' }, target: { table: 'u', managedBy: 'user' } });
    const plan = await planFlow(ctx);
    expect(plan.steps.map((s) => s.kind)).toEqual(['create-schema', 'state', 'state']);
    expect(plan.rows).toMatchObject({ insert: 2, delete: 0, foreign: 2, conflict: 1 });
    expect(plan.samples.filter((s) => s.op === 'foreign').length).toBe(2);
    expect(plan.samples.filter((s) => s.op === 'conflict').map((s) => s.key)).toEqual([{ id: '3' }]);
    await applyFlow(ctx);
    expect((await rowsOf(t.tgt, 'u')).find((r) => r.id === '3')).toEqual({ id: '3', v: 'old three', note: 'kept' });
    await applyFlow(ctx, { takeOver: true });
    expect(await rowsOf(t.tgt, 'u')).toEqual([
      { id: '1', v: 'a', note: 'kept' },
      { id: '2', v: 'b', note: 'kept' },
      { id: '3', v: 'c', note: 'kept' },
      { id: '100', v: 'mine', note: 'kept' },
      { id: '101', v: 'also mine', note: 'kept' },
    ]);
    const again = await planFlow(ctx);
    expect(again.rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 3, foreign: 2 });
    expect(again.samples.filter((s) => s.op === 'foreign').map((s) => s.key)).toEqual([{ id: '100' }, { id: '101' }]);

    await t.src.sql(`DELETE FROM s WHERE id IN (2, 3)`);
    const p = await planFlow(ctx);
    expect(p.rows).toMatchObject({ delete: 2, foreign: 2 });
    expect(p.samples.filter((s) => s.op === 'delete').map((s) => s.before?.v)).toEqual(['b', 'c']);
    await applyFlow(ctx);
    expect((await rowsOf(t.tgt, 'u')).map((r) => r.id)).toEqual(['1', '100', '101']);
  });

  it('system-managed: a row someone added to the table is foreign and survives', async () => {
    const ctx = t.ctx({ name: 'own_s', source: { table: 's' }, target: { table: 'sys' } });
    await applyFlow(ctx);
    await t.tgt.sql(`INSERT INTO sys VALUES (500, 'hand-made')`);
    await t.src.sql(`DELETE FROM s`);
    const p = await planFlow(ctx);
    expect(p.rows).toMatchObject({ delete: 1, foreign: 1 });
    const r = await applyFlow(ctx);
    expect(r.rows).toMatchObject({ delete: 1, foreign: 1 });
    expect(await rowsOf(t.tgt, 'sys')).toEqual([{ id: '500', v: 'hand-made' }]);
  });
});
