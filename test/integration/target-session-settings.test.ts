import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { applyFlow, planFlow, prepareKeySync, syncKeys } from '../../core/target';
import { jobFromFlow } from '../../core/target/flow-job';
import { RAW_TYPES } from '../../core/connections/pool';
import { sourceAndTarget, type Pair } from './target-fixture';

// A target database whose defaults change how text is read and printed: XML must be a document,
// dates are SQL/DMY, intervals SQL-standard (where a leading sign applies to every field), another
// time zone, escape bytea, rounded floats. Target sessions fix the same settings as source sessions,
// so the source's values arrive exactly and a re-plan finds nothing to do.
describe('target sessions fix the text settings', () => {
  let t: Pair;
  const settings = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'; SET extra_float_digits = 1";
  const text = async (url: string, table: string) => {
    const c = new pg.Client({ connectionString: url, types: RAW_TYPES });
    await c.connect();
    try {
      await c.query(settings);
      return (await c.query(`SELECT id, x::text AS x, d, iv, ts, b, f FROM ${table} ORDER BY id`)).rows;
    } finally {
      await c.end();
    }
  };
  beforeAll(async () => {
    t = await sourceAndTarget('tset');
    await t.src.sql(`CREATE TABLE s (id int PRIMARY KEY, x xml, d date, iv interval, ts timestamptz, b bytea, f float8)`);
    await t.src.sql(`INSERT INTO s VALUES
      (1, '<a/><b>fragment</b>', '2024-03-04', '-1 day +02:00:00', '2024-03-04 05:06:07.123456+00', '\\x00ff', 0.1),
      (2, 'just text', '2024-12-31', '1 year -3 mons', '2000-01-01 00:00:00+00', '\\x5c', 1e-7)`);
    for (const s of ['xmloption = document', "DateStyle = 'SQL, DMY'", 'IntervalStyle = sql_standard', "TimeZone = 'Asia/Kolkata'", 'bytea_output = escape', 'extra_float_digits = 0']) {
      await t.tgt.sql(`ALTER DATABASE "${t.tgt.name}" SET ${s}`);
    }
  });
  afterAll(async () => { await t.close(); });
  const flow = () => t.ctx({ name: 'settings_flow', source: { table: 's' }, target: { table: 'tg', managedBy: 'system' } });

  it('the target really has the odd defaults (sanity of the fixture)', async () => {
    const c = new pg.Client({ connectionString: t.tgt.url });
    await c.connect();
    try {
      expect((await c.query(`SHOW xmloption`)).rows[0].xmloption).toBe('document');
      await expect(c.query(`SELECT '<a/><b/>'::xml`)).rejects.toThrow();
    } finally {
      await c.end();
    }
  });

  it('apply accepts XML fragments and keeps every value exact; a re-plan finds nothing to do', async () => {
    const r = await applyFlow(flow());
    expect(r.rows.insert).toBe(2);
    expect(await text(t.tgt.url, 'tg')).toEqual(await text(t.src.url, 's'));
    const again = await planFlow(flow());
    expect(again.rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 2 });
  });

  it('plan samples read the target under the same settings', async () => {
    await t.src.sql(`UPDATE s SET x = '<c/>text', iv = '-2 days +03:00:00' WHERE id = 1`);
    const plan = await planFlow(flow());
    const upd = plan.samples.find((s) => s.op === 'update')!;
    expect(upd.changed?.sort()).toEqual(['iv', 'x']);
    expect(upd.before).toMatchObject({ iv: '-1 days +02:00:00', d: '2024-03-04', ts: '2024-03-04 05:06:07.123456+00', b: '\\x00ff' });
    expect(upd.after).toMatchObject({ iv: '-2 days +03:00:00', x: '<c/>text' });
  });

  it('live key syncs (both paths) accept fragments and intervals as the source meant them', async () => {
    await syncKeys(flow(), [['1']]);
    expect(await text(t.tgt.url, 'tg')).toEqual(await text(t.src.url, 's'));
    await t.src.sql(`UPDATE s SET x = 'more <d/>', iv = '-3 days +04:00:00' WHERE id = 2`);
    const ctx = flow();
    const client = await ctx.targetPool.connect();
    try {
      const sync = await prepareKeySync(client, await jobFromFlow(ctx));
      expect(await sync.run([['2']])).toEqual(['applied']);
    } finally {
      client.release();
    }
    expect(await text(t.tgt.url, 'tg')).toEqual(await text(t.src.url, 's'));
  });
});
