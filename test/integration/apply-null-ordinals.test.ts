import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplyProgress } from '../../core/api/model';
import { applyFlow, formatPlan, planFlow, prepareKeySync, syncKeys } from '../../core/target';
import { jobFromFlow } from '../../core/target/flow-job';
import { rowsOf, sourceAndTarget, type Pair } from './target-fixture';

// A nullable ordinal column holding NULLs: NULL = NULL proves nothing, so rows without an ordinal
// are compared by content (a fingerprint the source computes), their changes are synced like any
// other, and the plan says how many there are. Rows with an ordinal still go by the ordinal.
describe('rows without an ordinal are compared by content', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('nord');
    await t.src.sql(`CREATE TABLE s (id int PRIMARY KEY, v text, m timestamptz)`);
    await t.src.sql(`INSERT INTO s SELECT g, 'v' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE '2024-01-01'::timestamptz + g * interval '1 s' END FROM generate_series(1, 300) g`);
  });
  afterAll(async () => { await t.close(); });
  const flow = () => t.ctx({ name: 'null_ord', source: { table: 's', ordinalColumn: 'm' }, target: { table: 'tg' } });
  const same = async () => expect(await rowsOf(t.tgt, 'tg')).toEqual(await rowsOf(t.src, 's'));
  const scannedBy = async (fn: (onProgress: (p: ApplyProgress) => void) => Promise<unknown>) => {
    let max = 0;
    await fn((p) => { if (p.phase === 'scanning') max = Math.max(max, p.rowsDone); });
    return max;
  };

  it('the plan counts the rows without an ordinal and says how they are compared', async () => {
    const first = await planFlow(flow());
    expect(first.withoutOrdinal).toBe(100);
    expect(formatPlan(first)).toContain('100 rows without an ordinal, compared by content');
    await applyFlow(flow());
    await same();
    const again = await planFlow(flow());
    expect(again.rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 300 });
    expect(again.withoutOrdinal).toBe(100);
  });

  it('a change to a row without an ordinal is planned and applied (and the unchanged summary sees it)', async () => {
    expect(await scannedBy((onProgress) => applyFlow(flow(), { onProgress }))).toBe(0);
    await t.src.sql(`UPDATE s SET v = 'edited' WHERE id IN (3, 6)`);
    const plan = await planFlow(flow());
    expect(plan.rows).toMatchObject({ insert: 0, update: 2, delete: 0, unchanged: 298 });
    expect(plan.samples.filter((s) => s.op === 'update').map((s) => s.key.id).sort()).toEqual(['3', '6']);
    const r = await applyFlow(flow());
    expect(r.rows).toMatchObject({ insert: 0, update: 2, delete: 0 });
    await same();
    expect((await planFlow(flow())).rows).toMatchObject({ update: 0, unchanged: 300 });
  });

  it('an ordinal that becomes NULL, and a NULL that gets an ordinal', async () => {
    await t.src.sql(`UPDATE s SET m = NULL, v = 'lost its ordinal' WHERE id = 1`);
    await t.src.sql(`UPDATE s SET m = '2030-01-01', v = 'got one' WHERE id = 9`);
    await t.src.sql(`UPDATE s SET m = NULL WHERE id = 2`); // the ordinal alone changes (it is a value column too)
    const plan = await planFlow(flow());
    expect(plan.rows).toMatchObject({ update: 3, unchanged: 297 });
    expect(plan.withoutOrdinal).toBe(101);
    const r = await applyFlow(flow());
    expect(r.rows).toMatchObject({ update: 3, unchanged: 297 });
    await same();
    // Once settled, a row that has no ordinal any more is compared by content from now on.
    await t.src.sql(`UPDATE s SET v = 'again' WHERE id = 1`);
    expect((await applyFlow(flow())).rows).toMatchObject({ update: 1 });
    await same();
    expect((await planFlow(flow())).rows).toMatchObject({ update: 0, unchanged: 300 });
  });

  it('live key syncs of such rows leave no drift behind (both live paths)', async () => {
    await t.src.sql(`UPDATE s SET v = 'live' WHERE id = 12`);
    await syncKeys(flow(), [['12']]);
    await t.src.sql(`UPDATE s SET v = 'live too' WHERE id = 15`);
    const ctx = flow();
    const client = await ctx.targetPool.connect();
    try {
      const sync = await prepareKeySync(client, await jobFromFlow(ctx));
      expect(await sync.run([['15']])).toEqual(['applied']);
    } finally {
      client.release();
    }
    await same();
    // A re-read by key does not know the row's fingerprint: the next sync checks it again, writes nothing.
    expect((await applyFlow(flow())).rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 300 });
    await t.src.sql(`UPDATE s SET v = 'after live' WHERE id = 12`);
    expect((await applyFlow(flow())).rows).toMatchObject({ update: 1 });
    await same();
  });

  it('a NOT NULL ordinal column has no such rows and no extra column in the plan', async () => {
    await t.src.sql(`CREATE TABLE nn (id int PRIMARY KEY, v text, m bigint NOT NULL)`);
    await t.src.sql(`INSERT INTO nn VALUES (1, 'a', 1)`);
    const plan = await planFlow(t.ctx({ name: 'nn_ord', source: { table: 'nn', ordinalColumn: 'm' }, target: { table: 'nn' } }));
    expect(plan.withoutOrdinal).toBeUndefined();
    expect(formatPlan(plan)).not.toContain('without an ordinal');
  });
});
