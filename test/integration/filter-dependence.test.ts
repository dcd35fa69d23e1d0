import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, planFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';

// A filter whose verdict on a row can change while the row does not (it depends on the time, or
// reads other rows or tables): live capture and catch-ups follow changed rows, so rows enter or
// leave it unseen until the next apply. The plan says so; each apply evaluates every row again.
describe('a filter that depends on more than the row', () => {
  let t: Pair;
  let n = 0;
  beforeAll(async () => {
    t = await sourceAndTarget('fdep');
    await t.src.sql(`CREATE TABLE events (id int PRIMARY KEY, at timestamptz NOT NULL, kind text, price numeric)`);
    await t.src.sql(`INSERT INTO events SELECT g, now() - g * interval '1 hour', CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END, g FROM generate_series(1, 48) g`);
    await t.src.sql(`CREATE TABLE kinds (kind text PRIMARY KEY, active boolean)`);
    await t.src.sql(`INSERT INTO kinds VALUES ('a', true), ('b', false)`);
    await t.src.sql(`CREATE FUNCTION kind_active(k text) RETURNS boolean STABLE LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT active FROM kinds WHERE kind = k); END $$`);
    await t.src.sql(`CREATE FUNCTION doubled(x numeric) RETURNS numeric IMMUTABLE LANGUAGE sql AS $$ SELECT x * 2 $$`);
  });
  afterAll(async () => { await t?.close(); });

  const warningsOf = async (filter: string) => {
    const ctx = t.ctx({ name: `fdep_${++n}`, source: { table: 'events', filter }, target: { table: `events_${n}` } });
    return { ctx, warnings: (await planFlow(ctx)).warnings.filter((w) => /the filter depends on/.test(w)) };
  };

  it.each([
    [`at > now() - interval '1 day'`, /the filter depends on the time \(now\(\)\)/],
    [`at::date >= current_date - 1`, /the time \(current_date\)/],
    [`kind IN (SELECT kind FROM kinds WHERE active)`, /other rows or tables \(a subquery\)/],
    [`kind_active(kind)`, /function kind_active\(\), not IMMUTABLE/],
  ])('%s: the plan warns, naming what', async (filter, what) => {
    const { warnings } = await warningsOf(filter);
    expect(warnings).toEqual([expect.stringMatching(what)]);
    expect(warnings[0]).toMatch(/live capture and catch-ups do not see.*each apply evaluates every row again/);
  });

  it.each([
    `price > 10 AND kind = 'a'`,
    `to_char(price, '999') <> '' AND doubled(price) > 4`,
    `kind <> 'now()' AND kind <> 'current_date'`,
  ])('%s: no warning', async (filter) => {
    expect((await warningsOf(filter)).warnings).toEqual([]);
  });

  it('an apply evaluates every row again: rows that entered or left the filter without changing are synced', async () => {
    const { ctx } = await warningsOf(`kind_active(kind)`);
    await applyFlow(ctx);
    const kinds = async () => (await t.tgt.sql(`SELECT kind, count(*)::text AS n FROM events_${n} GROUP BY kind ORDER BY kind`)).rows;
    expect(await kinds()).toEqual([{ kind: 'a', n: '24' }]);
    // no row of events changes: the other table does
    await t.src.sql(`UPDATE kinds SET active = NOT active`);
    const r = await applyFlow(ctx);
    expect(r.rows).toMatchObject({ insert: 24, delete: 24 });
    expect(await kinds()).toEqual([{ kind: 'b', n: '24' }]);
  });
});
