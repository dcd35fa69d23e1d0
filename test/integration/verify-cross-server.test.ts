import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createPool } from '../../core/connections/pool';
import { debianBinaries, embeddedBinaries, startPostgres, type RunningPg } from '../../core/embedded/pg-server';
import { parseFlow } from '../../core/flow/load';
import { applyFlow, verifyFlow, type FlowContext } from '../../core/target';
import { freshDatabase, type TestDatabase } from '../support/db';

// Source and target on two different PostgreSQL servers of different major versions (the project's
// server and a second one: 15 beside 18, 18 beside 15), with settings that would change text if the
// sessions did not fix them. The same values must hash the same on both: typed hashes (integers,
// text, timestamps, uuid, bytea) and text forms (numeric scale, json kept verbatim, jsonb, floats,
// intervals, arrays), including an overridden numeric scale and json → jsonb.
const pg15 = debianBinaries(15);

describe.skipIf(!pg15)('verify across two servers of different versions', () => {
  let src: TestDatabase;
  let other: RunningPg;
  let targetUrl: string;
  const pools: pg.Pool[] = [];
  const ctx = (): FlowContext => {
    const flow = parseFlow({
      version: 1, name: 'verify_cross',
      source: { connection: { url: src.url }, table: 'kinds' },
      target: { connection: { url: targetUrl }, table: 'kinds', columns: { amount: { type: 'numeric(12,1)' }, doc: { type: 'jsonb' } } },
    });
    const sourcePool = createPool(src.url, { max: 2 });
    const targetPool = createPool(targetUrl, { max: 1 });
    pools.push(sourcePool, targetPool);
    return { flow, sourcePool, targetPool, sourceUrl: src.url, targetUrl };
  };

  beforeAll(async () => {
    src = await freshDatabase('vxs');
    const version = Number((await src.sql('SHOW server_version_num')).rows[0].server_version_num);
    // The other major version than the project's server.
    other = await startPostgres({ binaries: version >= 180000 ? pg15! : await embeddedBinaries(), fast: true, settings: { TimeZone: 'Asia/Kolkata', DateStyle: 'SQL, DMY', IntervalStyle: 'iso_8601', extra_float_digits: 0 } });
    const admin = new pg.Client({ connectionString: other.url() });
    await admin.connect();
    await admin.query('CREATE DATABASE target');
    await admin.end();
    targetUrl = other.url('target');
    await src.sql(`CREATE TABLE kinds (
      id bigint PRIMARY KEY, u uuid, name varchar(40), amount numeric(12,3), doc json, meta jsonb, at timestamptz, day date,
      ts timestamp, f4 real, f8 float8, span interval, raw bytea, tags text[], ok boolean)`);
    await src.sql(`INSERT INTO kinds SELECT g, md5(g::text)::uuid, 'n' || g, g * 1.125, '{"b": 1,  "a": [1.0, 2e3]}', jsonb_build_object('k', g * 0.1, 'z', null),
      '2024-03-01 10:00:00.123456+02'::timestamptz + g * interval '1 hour', date '2024-02-28' + g, '2024-03-01 23:59:59.5'::timestamp + g * interval '1 day',
      g / 3.0, g / 7.0, make_interval(days => g, secs => g * 1.5), decode(md5(g::text), 'hex'), ARRAY['a', 'b c', NULL], g % 2 = 0
      FROM generate_series(1, 200) g`);
  }, 120_000);
  afterAll(async () => {
    for (const p of pools) await p.end().catch(() => {});
    await other?.stop();
    await src?.drop();
  });

  it('is equal after apply by the summaries alone, and finds one changed value', async () => {
    await applyFlow(ctx());
    expect(await verifyFlow(ctx())).toMatchObject({ equal: true, method: 'summary', sourceRows: 200, targetRows: 200 });
    const t = new pg.Client({ connectionString: targetUrl });
    await t.connect();
    try {
      await t.query(`UPDATE kinds SET f8 = f8 + 1e-12 WHERE id = 9`);
    } finally {
      await t.end();
    }
    const drift = await verifyFlow(ctx());
    expect(drift.counts).toEqual({ changed: 1, missing: 0, extra: 0, notOwned: 0 });
    expect(drift.changed[0]).toMatchObject({ key: { id: '9' }, changed: ['f8'] });
  });
});
