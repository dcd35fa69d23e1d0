import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, formatApplyResult, formatPlan, planFlow, prepareKeySync, syncKeys } from '../../core/target';
import { jobFromFlow } from '../../core/target/flow-job';
import { sourceAndTarget, type Pair } from './target-fixture';

// managedBy "user": a row you wrote whose key the source also has is a conflict, not an insert and
// not "left alone" in words only: the plan says it would take it over, apply leaves it alone (not
// written, not tracked) unless allowed to take it over, and plan and apply count the same.
describe('rows you wrote in a user-managed table', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('ucon');
    await t.src.sql(`CREATE TABLE s (id int PRIMARY KEY, v text)`);
    await t.src.sql(`INSERT INTO s SELECT g, 'src' || g FROM generate_series(1, 100) g`);
  });
  afterAll(async () => { await t.close(); });
  const flow = (table: string) => t.ctx({ name: `ucon_${table}`, source: { table: 's' }, target: { table, managedBy: 'user' } });
  const v = async (table: string, id: number) => (await t.tgt.sql(`SELECT v FROM ${table} WHERE id = $1`, [id])).rows[0]?.v;
  const tracked = async (table: string) => Number((await t.tgt.sql(`SELECT count(*) AS n FROM tablesync."rows__ucon_${table}"`)).rows[0].n);

  it('first apply into a table with your rows: conflicts counted, shown, left alone; plan and apply agree', async () => {
    await t.tgt.sql(`CREATE TABLE a (id int PRIMARY KEY, v text)`);
    await t.tgt.sql(`INSERT INTO a VALUES (1, 'mine 1'), (2, 'src2'), (500, 'only mine')`);
    const plan = await planFlow(flow('a'));
    expect(plan.rows).toMatchObject({ insert: 98, update: 0, delete: 0, foreign: 1, conflict: 2 });
    expect(formatPlan(plan)).toContain('would take over 2 rows you wrote');
    const samples = plan.samples.filter((s) => s.op === 'conflict');
    expect(samples.map((s) => s.key.id).sort()).toEqual(['1', '2']);
    expect(samples.find((s) => s.key.id === '1')).toMatchObject({ before: { v: 'mine 1' }, after: { v: 'src1' }, changed: ['v'] });
    expect(plan.samples.filter((s) => s.op === 'insert').every((s) => !['1', '2'].includes(s.key.id!))).toBe(true);
    expect(plan.samples.filter((s) => s.op === 'foreign').map((s) => s.key.id)).toEqual(['500']);
    const r = await applyFlow(flow('a'));
    expect(r.rows).toMatchObject({ insert: plan.rows.insert, update: plan.rows.update, delete: plan.rows.delete, conflict: plan.rows.conflict });
    expect(r.tookOver).toBeUndefined();
    expect(formatApplyResult(r)).toContain('left alone 2 rows you wrote whose keys the source also has');
    expect(await v('a', 1)).toBe('mine 1');
    expect(await tracked('a')).toBe(98);
    // Nothing else changed: the conflicts stay conflicts, and nothing is deleted from your rows.
    await t.src.sql(`UPDATE s SET v = 'src1 changed' WHERE id = 1`);
    await t.src.sql(`DELETE FROM s WHERE id = 2`);
    const again = await planFlow(flow('a'));
    expect(again.rows).toMatchObject({ insert: 0, update: 0, delete: 0, conflict: 1, foreign: 2 });
    expect((await applyFlow(flow('a'))).rows).toMatchObject({ insert: 0, update: 0, delete: 0, conflict: 1 });
    expect(await v('a', 1)).toBe('mine 1');
    expect(await v('a', 2)).toBe('src2');
    await t.src.sql(`INSERT INTO s VALUES (2, 'src2')`);
    await t.src.sql(`UPDATE s SET v = 'src1' WHERE id = 1`);
  });

  it('live syncs never take your rows over either (both paths)', async () => {
    await t.src.sql(`UPDATE s SET v = 'live' WHERE id IN (1, 3)`);
    const r = await syncKeys(flow('a'), [['1'], ['3']]);
    expect(r.applied).toEqual([['3']]);
    expect(r.skipped).toEqual([['1']]); // left alone, not "applied"
    expect(await v('a', 1)).toBe('mine 1');
    expect(await v('a', 3)).toBe('live');
    const ctx = flow('a');
    const client = await ctx.targetPool.connect();
    try {
      const sync = await prepareKeySync(client, await jobFromFlow(ctx));
      await t.src.sql(`UPDATE s SET v = 'live 2' WHERE id IN (1, 3)`);
      expect(await sync.run([['1'], ['3']])).toEqual(['skipped', 'applied']);
    } finally {
      client.release();
    }
    expect(await v('a', 1)).toBe('mine 1');
    expect(await v('a', 3)).toBe('live 2');
    await t.src.sql(`UPDATE s SET v = 'src' || id WHERE id IN (1, 3)`);
    await applyFlow(flow('a'));
  });

  it('both live paths report a row you wrote as skipped: the one statement and the fallback (overridden key type)', async () => {
    await t.tgt.sql(`CREATE TABLE kb (id bigint PRIMARY KEY, v text)`);
    await t.tgt.sql(`INSERT INTO kb VALUES (7, 'mine 7')`);
    const bflow = () => t.ctx({ name: 'ucon_kb', source: { table: 's' }, target: { table: 'kb', managedBy: 'user', columns: { id: { type: 'bigint' } } } });
    await applyFlow(bflow());
    await t.src.sql(`UPDATE s SET v = 'live' WHERE id IN (7, 8)`);
    const ctx = bflow();
    const client = await ctx.targetPool.connect();
    try {
      const sync = await prepareKeySync(client, await jobFromFlow(ctx));
      expect(sync.oneStatement).toBe(false); // int → bigint key: the syncKeysOn path
      expect(await sync.run([['7'], ['8'], ['9999']])).toEqual(['skipped', 'applied', 'skipped']);
      const one = await prepareKeySync(client, await jobFromFlow(flow('a')));
      expect(one.oneStatement).toBe(true);
      await t.src.sql(`UPDATE s SET v = 'live 3' WHERE id IN (1, 3)`);
      expect(await one.run([['1'], ['3'], ['9999']])).toEqual(['skipped', 'applied', 'skipped']);
    } finally {
      client.release();
    }
    expect((await t.tgt.sql(`SELECT v FROM kb WHERE id = 7`)).rows[0].v).toBe('mine 7');
    expect((await t.tgt.sql(`SELECT v FROM kb WHERE id = 8`)).rows[0].v).toBe('live');
    await t.src.sql(`UPDATE s SET v = 'src' || id WHERE id IN (1, 3, 7, 8)`);
    await applyFlow(flow('a'));
  });

  it('--take-over: overwrites and owns them; the counts still agree with the plan', async () => {
    const plan = await planFlow(flow('a'));
    expect(plan.rows).toMatchObject({ insert: 0, update: 0, conflict: 2 });
    const r = await applyFlow(flow('a'), { takeOver: true });
    expect(r.rows).toMatchObject({ insert: plan.rows.insert, update: plan.rows.update, delete: plan.rows.delete, conflict: 2 });
    expect(r.tookOver).toBe(2);
    expect(formatApplyResult(r)).toContain('took over 2 rows you wrote');
    expect(await v('a', 1)).toBe('src1');
    expect(await v('a', 500)).toBe('only mine');
    expect(await tracked('a')).toBe(100);
    expect((await planFlow(flow('a'))).rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 100, foreign: 1, conflict: 0 });
    // Owned now: deleted from the target when the source deletes them.
    await t.src.sql(`DELETE FROM s WHERE id = 1`);
    expect((await applyFlow(flow('a'))).rows).toMatchObject({ delete: 1 });
    expect(await v('a', 1)).toBeUndefined();
    await t.src.sql(`INSERT INTO s VALUES (1, 'src1')`);
  });

  it('an incremental apply meets a row you added since: a conflict too (and --take-over on a later apply)', async () => {
    await t.tgt.sql(`CREATE TABLE b (id int PRIMARY KEY, v text)`);
    await applyFlow(flow('b'));
    await t.src.sql(`INSERT INTO s VALUES (101, 'new in source'), (102, 'also new')`);
    await t.tgt.sql(`INSERT INTO b VALUES (101, 'you were first')`);
    const plan = await planFlow(flow('b'));
    expect(plan.rows).toMatchObject({ insert: 1, update: 0, conflict: 1, foreign: 0 });
    expect((await applyFlow(flow('b'))).rows).toMatchObject({ insert: 1, conflict: 1 });
    expect(await v('b', 101)).toBe('you were first');
    expect(await v('b', 102)).toBe('also new');
    const r = await applyFlow(flow('b'), { takeOver: true });
    expect(r.rows).toMatchObject({ insert: 0, update: 0, conflict: 1 });
    expect(r.tookOver).toBe(1);
    expect(await v('b', 101)).toBe('new in source');
  });

  it('a system-managed table has no conflicts to report', async () => {
    const plan = await planFlow(t.ctx({ name: 'ucon_sys', source: { table: 's' }, target: { table: 'sys' } }));
    expect(plan.rows.conflict).toBeUndefined();
  });
});
