import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, planFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';

// managedBy "user": TableSync never runs DDL on the table; a missing table or an incompatible column
// is INCOMPATIBLE_TARGET naming it, and nothing is written.
describe('user-managed targets', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget();
    await t.src.sql(`CREATE TABLE s (id int PRIMARY KEY, name text, doc jsonb)`);
    await t.src.sql(`INSERT INTO s VALUES (1, 'a', '{"k": 1}')`);
  });
  afterAll(async () => { await t.close(); });
  const flow = (table: string, extra: object = {}) => t.ctx({ name: `um_${table}`, source: { table: 's', ...extra }, target: { table, managedBy: 'user' } });
  const noState = async () => expect((await t.tgt.sql(`SELECT to_regnamespace('tablesync') AS n`)).rows[0].n).toBeNull();

  it('a missing table', async () => {
    await expect(planFlow(flow('nope'))).rejects.toMatchObject({ code: 'INCOMPATIBLE_TARGET', message: expect.stringContaining('"public"."nope" does not exist') });
    await expect(applyFlow(flow('nope'))).rejects.toMatchObject({ code: 'INCOMPATIBLE_TARGET' });
    await noState();
  });

  it('a missing column', async () => {
    await t.tgt.sql(`CREATE TABLE m1 (id int PRIMARY KEY, name text)`);
    await expect(applyFlow(flow('m1'))).rejects.toMatchObject({ code: 'INCOMPATIBLE_TARGET', message: expect.stringContaining('column "doc" is missing') });
    await noState();
  });

  it('a column of a type the source cannot convert to', async () => {
    await t.tgt.sql(`CREATE TABLE m2 (id int PRIMARY KEY, name text, doc point)`);
    await expect(applyFlow(flow('m2'))).rejects.toMatchObject({ code: 'INCOMPATIBLE_TARGET', message: expect.stringContaining('column "doc" is point') });
    await noState();
  });

  it('no key to upsert on, or a NOT NULL column the flow does not fill', async () => {
    await t.tgt.sql(`CREATE TABLE m3 (id int, name text, doc jsonb)`);
    await expect(applyFlow(flow('m3'))).rejects.toMatchObject({ code: 'INCOMPATIBLE_TARGET', message: expect.stringContaining('no primary key or unique index on (id)') });
    await t.tgt.sql(`CREATE TABLE m4 (id int PRIMARY KEY, name text, doc jsonb, must text NOT NULL)`);
    await expect(applyFlow(flow('m4'))).rejects.toMatchObject({ code: 'INCOMPATIBLE_TARGET', message: expect.stringContaining('column "must" is NOT NULL') });
    await noState();
  });

  it('a compatible table: converted on the way in, and never altered', async () => {
    await t.tgt.sql(`CREATE TABLE ok (id bigint PRIMARY KEY, name varchar(10), doc json, extra text DEFAULT 'x')`);
    const before = (await t.tgt.sql(`SELECT pg_get_tabledef FROM (SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) AS pg_get_tabledef FROM pg_attribute WHERE attrelid = 'ok'::regclass AND attnum > 0) x`)).rows[0];
    const plan = await planFlow(flow('ok'));
    expect(plan.steps.filter((s) => !['create-schema', 'state'].includes(s.kind))).toEqual([]);
    await applyFlow(flow('ok'));
    expect((await t.tgt.sql(`SELECT * FROM ok`)).rows).toEqual([{ id: '1', name: 'a', doc: '{"k": 1}', extra: 'x' }]);
    const after = (await t.tgt.sql(`SELECT pg_get_tabledef FROM (SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) AS pg_get_tabledef FROM pg_attribute WHERE attrelid = 'ok'::regclass AND attnum > 0) x`)).rows[0];
    expect(after).toEqual(before);
  });
});
