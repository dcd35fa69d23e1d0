import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ApplyProgress } from '../../core/api/model';
import { debianBinaries, embeddedBinaries, startPostgres, type RunningPg } from '../../core/embedded/pg-server';
import { createPool } from '../../core/connections/pool';
import { parseFlow } from '../../core/flow/load';
import { applyFlow, verifyFlow, type FlowContext } from '../../core/target';
import { freshDatabase, type TestDatabase } from '../support/db';

// Binary COPY between two major versions: the source on the harness's server (18 or 15), the
// target on a server of the other version (15 or 18), parallel streams. Every value of every
// binary-safe type (core/sql/binary-copy.ts) must arrive with exactly the text the source prints.
describe('initial load across major versions (binary COPY)', () => {
  let other: RunningPg | undefined;
  let src: TestDatabase;
  let tgt: TestDatabase;
  const pools: ReturnType<typeof createPool>[] = [];
  beforeAll(async () => {
    const harness15 = inject('pgLabel').includes('PostgreSQL 15');
    const binaries = harness15 ? await embeddedBinaries() : debianBinaries(15);
    if (!binaries) return;
    other = await startPostgres({ binaries, fast: true });
    src = await freshDatabase('xvs');
    tgt = await freshDatabase('xvt', other.url());
    for (const db of [src, tgt]) await db.sql(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`);
    await src.sql(`CREATE TABLE x (
      id bigint PRIMARY KEY, i2 smallint, i4 int, n numeric(30,10), nn numeric, f4 real, f8 float8, b bool, t text, vc varchar(20), c char(3),
      by bytea, d date, tm time, ttz timetz, ts timestamp, tz timestamptz, iv interval, u uuid, j json, jb jsonb, ip inet, cidr cidr,
      mac macaddr, bits bit(4), vb varbit, m mood, ai int[], at text[], atz timestamptz[], an numeric[])`);
    await src.sql(`INSERT INTO x SELECT g, (g % 30000)::smallint, g * 1000, g * 1.0000000001, CASE WHEN g % 3 = 0 THEN 'NaN' ELSE (g::numeric / 7) END,
        g / 3.0, CASE WHEN g % 5 = 0 THEN '-Infinity'::float8 ELSE g / 7.0 END, g % 2 = 0, 'té' || g, 'v' || g, 'c' || (g % 10),
        decode(md5(g::text), 'hex'), date '1999-12-31' + g, time '12:34:56.789012' + g * interval '1 s', timetz '01:02:03.456789+05:30',
        timestamp '2000-02-29 00:00:00.000001' + g * interval '1 h', timestamptz '1970-01-01 00:00:00.5+00' - g * interval '1 day',
        make_interval(0, g % 13, 0, g % 40, 0, 0, g / 1000.0), md5(g::text)::uuid, json_build_object('a', g, 'n', 1.50),
        jsonb_build_object('a', g, 'n', 1.50, 'u', 'ü'), ('10.0.' || (g % 255) || '.1')::inet, '192.168.0.0/16', '08:00:2b:01:02:03',
        (g % 16)::bit(4), (g % 64)::bit(6)::varbit, (ARRAY['sad', 'ok', 'happy'])[g % 3 + 1]::mood,
        ARRAY[g, NULL], ARRAY['a' || g, NULL, ''], ARRAY[timestamptz '2024-01-01 00:00:00.123456+00'], ARRAY[g * 0.5, NULL]
      FROM generate_series(1, 2000) g`);
    await src.sql(`INSERT INTO x (id) VALUES (0)`);
  }, 120_000);
  afterAll(async () => {
    for (const p of pools) await p.end().catch(() => {});
    await src?.drop();
    await tgt?.drop();
    await other?.stop();
  });

  it('3 streams, binary, every value arrives exactly', async (t) => {
    if (!other) return t.skip();
    const flow = parseFlow({ version: 1, name: 'xv', source: { connection: { url: src.url }, table: 'x' }, target: { connection: { url: tgt.url }, table: 'x' } });
    const ctx = (): FlowContext => {
      const sourcePool = createPool(src.url, { max: 4 });
      const targetPool = createPool(tgt.url, { max: 1 });
      pools.push(sourcePool, targetPool);
      return { flow, sourcePool, targetPool, sourceUrl: src.url, targetUrl: tgt.url };
    };
    const progress: ApplyProgress[] = [];
    const r = await applyFlow(ctx(), { streams: 3, onProgress: (p) => progress.push(p) });
    expect(r.rows.insert).toBe(2001);
    expect(progress.map((p) => p.message).join(' ')).toContain('3 streams, binary COPY');
    // Both servers print with the same fixed settings (UTC, ISO, exact floats), so the text must match.
    const dump = async (db: TestDatabase) => (await db.sql(`BEGIN; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, MDY'; SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 1;
      SELECT count(*) AS n, md5(string_agg(x::text, E'\\n' ORDER BY id)) AS h FROM x; COMMIT` as string) as unknown as { rows: { n: string; h: string }[] }[])[5]!.rows[0]!;
    const want = await dump(src);
    expect(want.n).toBe('2001');
    expect(await dump(tgt)).toEqual(want);
    expect((await verifyFlow(ctx())).equal).toBe(true);
    expect((await applyFlow(ctx())).rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 2001 });
  });
});
