import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, catchUp, dropFlow, planFlow, syncKeys, type DropPart } from '../../core/target';
import { rowsOf, sourceAndTarget, type Pair } from './target-fixture';

// What the live listener uses: syncKeys re-reads notified keys through the filter and makes the
// target agree in one transaction (upsert present rows, delete owned rows that are gone or filtered
// out, never a foreign row); catchUp is the incremental sync without destructive DDL; drop parts
// let core/live add its own clean-up.
describe('syncKeys, catchUp and drop parts', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget();
    await t.src.sql(`CREATE TABLE s (id int PRIMARY KEY, v text, active boolean NOT NULL DEFAULT true, at bigint NOT NULL DEFAULT 1)`);
    await t.src.sql(`INSERT INTO s (id, v) SELECT g, 'v' || g FROM generate_series(1, 5) g`);
  });
  afterAll(async () => { await t.close(); });
  const flow = (cols = ['v', 'at']) => t.ctx({ name: 'live', source: { table: 's', includedColumns: cols, ordinalColumn: 'at', filter: 'active' }, target: { table: 'lt' } });

  it('syncs notified keys', async () => {
    await applyFlow(flow());
    await t.tgt.sql(`INSERT INTO lt VALUES (500, 'foreign', 1)`);
    await t.src.sql(`UPDATE s SET v = 'changed', at = 2 WHERE id = 1`);
    await t.src.sql(`DELETE FROM s WHERE id = 2`);
    await t.src.sql(`UPDATE s SET active = false, at = 2 WHERE id = 3`);
    await t.src.sql(`INSERT INTO s (id, v) VALUES (10, 'ten')`);
    const r = await syncKeys(flow(), [['1'], ['2'], ['3'], ['10'], ['500'], ['1']]);
    expect(r.applied.sort()).toEqual([['1'], ['10']]);
    expect(r.deleted).toEqual([['2']]);
    expect(r.skipped).toEqual([['500']]); // gone from the source, but a row this flow never wrote: left alone
    expect(r.filteredOut).toEqual([['3']]);
    expect(r.commitTime).toBeInstanceOf(Date);
    expect(await rowsOf(t.tgt, 'lt')).toEqual([
      { id: '1', v: 'changed', at: '2' },
      { id: '4', v: 'v4', at: '1' },
      { id: '5', v: 'v5', at: '1' },
      { id: '10', v: 'ten', at: '1' },
      { id: '500', v: 'foreign', at: '1' },
    ]);
    // Tracking followed: a full plan finds nothing to do, and the foreign row is still foreign.
    expect((await planFlow(flow())).rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 4, foreign: 1 });
  });

  it('catchUp applies what happened while nobody listened, but nothing destructive', async () => {
    await t.src.sql(`UPDATE s SET v = 'later', at = 3 WHERE id = 4`);
    await t.src.sql(`UPDATE s SET active = true WHERE id = 3`);
    const r = await catchUp(flow());
    expect(r.rows).toMatchObject({ insert: 1, update: 1, delete: 0 });
    await expect(catchUp(flow(['at']))).rejects.toMatchObject({ code: 'DESTRUCTIVE_NOT_ALLOWED' });
    await expect(syncKeys(flow(['at']), [['1']])).rejects.toMatchObject({ code: 'PLAN_STALE' });
  });

  it('drop runs the parts it is given (their steps are listed) before removing the target side', async () => {
    const ran: string[] = [];
    const part: DropPart = async (ctx, state) => ({
      steps: [{ kind: 'drop-trigger', summary: `drop trigger of ${ctx.flow.name}`, sql: ['DROP TRIGGER …'], destructive: false, hazards: [] }],
      run: async () => { ran.push(`${ctx.flow.name}:${state ? 'has state' : 'no state'}`); },
    });
    const dry = await dropFlow(flow(), [part], { dryRun: true });
    expect(dry.steps.map((s) => s.kind)).toEqual(['drop-trigger', 'drop-table', 'state']);
    expect(ran).toEqual([]);
    await dropFlow(flow(), [part], { allowDestructive: true });
    expect(ran).toEqual(['live:has state']);
    expect((await t.tgt.sql(`SELECT to_regclass('public.lt') AS r`)).rows[0].r).toBeNull();
  });
});
