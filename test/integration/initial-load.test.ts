import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplyProgress } from '../../core/api/model';
import { createPool } from '../../core/connections/pool';
import type { FlowContext } from '../../core/target';
import { applyFlow, planFlow, verifyFlow } from '../../core/target';
import { pgRowSource } from '../../core/target/row-source';
import { parseFlow } from '../../core/flow/load';
import { sourceAndTarget, type Pair } from './target-fixture';

// The initial load (core/target/initial-load.ts): rows straight into the new table, binary COPY
// where both sides allow it, parallel range streams (heap blocks, or key ranges) on one snapshot into a staging table of
// ours. The target must equal the source exactly (server-side fingerprints, every value's text),
// tracking must be exact (the next apply changes nothing, verify agrees), a failure in one stream
// leaves the target as it was with no staging table left, and writes during the load converge.
describe('initial load', () => {
  let t: Pair;
  const pools: ReturnType<typeof createPool>[] = [];
  beforeAll(async () => {
    t = await sourceAndTarget('il');
    for (const db of [t.src, t.tgt]) {
      await db.sql(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`);
      await db.sql(`CREATE DOMAIN posint AS integer CHECK (VALUE > 0)`);
    }
    // A collation-sensitive text key where the server has ICU (else the database's own).
    const icu = (await t.src.sql(`SELECT count(*) AS n FROM pg_collation WHERE collname = 'und-x-icu'`)).rows[0].n === '1';
    await t.src.sql(`CREATE TABLE rich (
      k text ${icu ? 'COLLATE "und-x-icu"' : ''}, n int, at timestamptz, amount numeric(20,6), raw bytea, ints int[], tags text[],
      m mood, doc json, docb jsonb, flag boolean, d date, iv interval, u uuid, f8 float8,
      PRIMARY KEY (k, n))`);
    await t.src.sql(`INSERT INTO rich
      SELECT (ARRAY['a', 'B', 'b', 'A', 'ä', 'Ä', '_x', 'z', ' sp', 'tab\tk', 'naïve "q"', ''])[g % 12 + 1] || (g / 12), g,
             CASE WHEN g % 7 = 0 THEN NULL ELSE timestamptz '2024-02-29 23:59:59.123456+00' + g * interval '1.000001 second' END,
             CASE WHEN g % 5 = 0 THEN NULL ELSE (g * 1.000001)::numeric(20,6) END,
             CASE WHEN g % 6 = 0 THEN NULL WHEN g % 6 = 1 THEN ''::bytea ELSE decode(md5(g::text), 'hex') END,
             CASE WHEN g % 4 = 0 THEN NULL WHEN g % 4 = 1 THEN '{}'::int[] ELSE ARRAY[g, NULL, -g] END,
             ARRAY['x' || g, NULL, 'a,b', '"q"', ''],
             (ARRAY['sad', 'ok', 'happy'])[g % 3 + 1]::mood,
             json_build_object('g', g, 'big', 12345678901234567890, 's', 'ü'),
             jsonb_build_object('g', g, 'f', 1.10),
             CASE WHEN g % 3 = 0 THEN NULL ELSE g % 2 = 0 END,
             date '2000-01-01' + g, (g || ' days 03:04:05.678901')::interval, md5(g::text)::uuid,
             CASE WHEN g % 9 = 0 THEN 'NaN'::float8 ELSE g / 3.0 END
        FROM generate_series(1, 3000) g`);
    await t.src.sql(`CREATE TABLE dom (id bigint PRIMARY KEY, p posint, note text)`);
    await t.src.sql(`INSERT INTO dom SELECT g, g, CASE WHEN g % 2 = 0 THEN NULL ELSE 'n' || g END FROM generate_series(1, 2000) g`);
    await t.src.sql(`CREATE TABLE busy (id bigint PRIMARY KEY, v int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    await t.src.sql(`INSERT INTO busy SELECT g, 0 FROM generate_series(1, 60000) g`);
    // Holes and moved rows: deleted rows, updated rows whose new versions sit in later blocks.
    await t.src.sql(`CREATE TABLE holes (id int PRIMARY KEY, v int NOT NULL, pad text)`);
    await t.src.sql(`INSERT INTO holes SELECT g, g, repeat('p', 100) FROM generate_series(1, 4000) g`);
    await t.src.sql(`DELETE FROM holes WHERE id % 11 = 0; UPDATE holes SET v = -v WHERE id % 13 = 0`);
    await t.src.sql(`CREATE TABLE parts (id int PRIMARY KEY, v int NOT NULL, pad text) PARTITION BY RANGE (id)`);
    for (const [a, b] of [[0, 1000], [1000, 2500], [2500, 100000]]) await t.src.sql(`CREATE TABLE parts_${a} PARTITION OF parts FOR VALUES FROM (${a}) TO (${b})`);
    await t.src.sql(`INSERT INTO parts SELECT g, g, repeat('p', 100) FROM generate_series(1, 4000) g`);
    await t.src.sql(`ANALYZE`);
  }, 120_000);
  afterAll(async () => {
    for (const p of pools) await p.end().catch(() => {});
    await t.close();
  });

  /** A flow context whose source pool can give `readers` connections at once. */
  const ctxOf = (f: Parameters<Pair['ctx']>[0], readers = 4): FlowContext => {
    const c = t.ctx(f);
    const pool = createPool(t.src.url, { max: readers });
    pools.push(pool);
    return { ...c, sourcePool: pool };
  };
  /** Every row's text, hashed on the server, in an order both sides agree on. */
  const fingerprint = async (db: Pair['src'], table: string, cols: string, order: string) =>
    (await db.sql(`SELECT count(*) AS n, md5(string_agg(ROW(${cols})::text, E'\\n' ORDER BY ${order})) AS h FROM ${table}`)).rows[0];
  const RICH = `k, n, at, amount, raw, ints, tags, m, doc, docb, flag, d, iv, u, f8`;
  const RICH_ORDER = `k COLLATE "C", n`;
  const stagingTables = async () => (await t.tgt.sql(`SELECT count(*) AS n FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'tablesync' AND c.relname LIKE '\\_load%'`)).rows[0].n;
  const messages = (out: ApplyProgress[]) => out.map((p) => p.message).filter(Boolean).join(' | ');

  for (const streams of [1, 3]) {
    it(`${streams} stream(s), binary: every value arrives exactly; tracking is exact (next apply and verify agree)`, async () => {
      const name = `rich_${streams}`;
      const ctx = () => ctxOf({ name, source: { table: 'rich', ordinalColumn: 'at' }, target: { table: name } });
      const progress: ApplyProgress[] = [];
      const r = await applyFlow(ctx(), { streams, onProgress: (p) => progress.push(p) });
      expect(r.rows.insert).toBe(3000);
      expect(messages(progress)).toContain(`${streams} stream${streams > 1 ? 's' : ''}, binary COPY`);
      expect(await fingerprint(t.tgt, name, RICH, RICH_ORDER)).toEqual(await fingerprint(t.src, 'rich', RICH, RICH_ORDER));
      expect((await t.tgt.sql(`SELECT count(*) AS n FROM tablesync."rows__${name}"`)).rows[0].n).toBe('3000');
      expect((await t.tgt.sql(`SELECT conname FROM pg_constraint WHERE conrelid = 'public.${name}'::regclass AND contype = 'p'`)).rows[0].conname).toBe(`${name}_pkey`);
      expect(await stagingTables()).toBe('0');
      // Rows without an ordinal (every 7th) are tracked by fingerprint: nothing to re-read.
      expect((await planFlow(ctx())).rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 3000 });
      expect((await verifyFlow(ctx())).equal).toBe(true);
    });
  }

  it('a domain column goes as text, in parallel, and arrives exactly (fingerprint mode)', async () => {
    const ctx = () => ctxOf({ name: 'dom_par', source: { table: 'dom' }, target: { table: 'dom_par' } });
    const progress: ApplyProgress[] = [];
    await applyFlow(ctx(), { streams: 3, onProgress: (p) => progress.push(p) });
    expect(messages(progress)).toContain('3 streams, text COPY');
    expect(await fingerprint(t.tgt, 'dom_par', 'id, p, note', 'id')).toEqual(await fingerprint(t.src, 'dom', 'id, p, note', 'id'));
    expect((await applyFlow(ctx())).rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 2000 });
  });

  it('the ranges hold every row exactly once: heap blocks of a plain table (holes, moved rows, a filter), key ranges of a partitioned one', async () => {
    /** The first field of every row of a text COPY relayed as CopyData messages. */
    const keysOf = async (frames: AsyncIterable<Buffer>) => {
      const parts: Buffer[] = [];
      for await (const run of frames) {
        for (let off = 0; off < run.length;) {
          const end = off + 1 + run.readUInt32BE(off + 1);
          parts.push(run.subarray(off + 5, end));
          off = end;
        }
      }
      return Buffer.concat(parts).toString('utf8').split('\n').filter(Boolean).map((l) => Number(l.split('\t')[0]));
    };
    for (const [table, by] of [['holes', 'block'], ['parts', 'key']] as const) {
      const flow = parseFlow({ version: 1, name: `r_${table}`, source: { connection: { url: t.src.url }, table, filter: 'v % 3 <> 1' }, target: { connection: { url: t.tgt.url }, table: `r_${table}` } });
      const pool = createPool(t.src.url, { max: 3 });
      pools.push(pool);
      const src = await pgRowSource(pool, flow.source);
      const got = await src.bulk!.read({ ranges: 7, readers: () => 3 }, async (readers, ranges) => {
        expect(ranges.length).toBe(7);
        expect(ranges.every((r) => r.by === by)).toBe(true);
        const keys: number[] = [];
        await Promise.all(readers.map(async (reader, i) => {
          for (let j = i; j < ranges.length; j += readers.length) keys.push(...(await keysOf(reader.rows(ranges[j], 'text'))));
        }));
        return keys;
      });
      const want = (await t.src.sql(`SELECT id FROM ${table} WHERE v % 3 <> 1 ORDER BY id`)).rows.map((r: { id: string }) => Number(r.id));
      expect(got.length, `${table}: no row twice`).toBe(want.length);
      expect([...got].sort((a, b) => a - b)).toEqual(want);
    }
  });

  it('a partitioned source loads in parallel by key ranges, exactly', async () => {
    const ctx = () => ctxOf({ name: 'parts_par', source: { table: 'parts' }, target: { table: 'parts_par' } });
    const progress: ApplyProgress[] = [];
    await applyFlow(ctx(), { streams: 3, onProgress: (p) => progress.push(p) });
    expect(messages(progress)).toContain('3 streams, binary COPY');
    expect(await fingerprint(t.tgt, 'parts_par', 'id, v, pad', 'id')).toEqual(await fingerprint(t.src, 'parts', 'id, v, pad', 'id'));
    expect((await t.tgt.sql(`SELECT count(*) AS n FROM tablesync."rows__parts_par"`)).rows[0].n).toBe('4000');
    expect((await verifyFlow(ctx())).equal).toBe(true);
    expect((await applyFlow(ctx())).rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 4000 });
  });

  it('a value the target refuses in one stream: nothing is written, no staging table is left, the column is named', async () => {
    // The target's enum of the same name lacks a label that only the last rows (the last range) use.
    await t.tgt.sql(`CREATE TYPE lvl AS ENUM ('lo', 'mid')`);
    await t.src.sql(`CREATE TYPE lvl AS ENUM ('lo', 'mid', 'hi')`);
    await t.src.sql(`CREATE TABLE tight (id bigint PRIMARY KEY, p lvl)`);
    await t.src.sql(`INSERT INTO tight SELECT g, CASE WHEN g > 1900 THEN 'hi' ELSE 'lo' END::lvl FROM generate_series(1, 2000) g`);
    const ctx = ctxOf({ name: 'tight', source: { table: 'tight' }, target: { table: 'tight' } });
    const e = await applyFlow(ctx, { streams: 3 }).then(() => undefined, (x: unknown) => x as Error);
    expect(e?.message, String(e?.message)).toMatch(/"p"/);
    expect((await t.tgt.sql(`SELECT to_regclass('public.tight') IS NULL AS gone`)).rows[0].gone).toBe('t');
    expect((await t.tgt.sql(`SELECT count(*) AS n FROM tablesync.flows WHERE flow = 'tight'`)).rows[0].n).toBe('0');
    expect(await stagingTables()).toBe('0');
  });

  it('a stream whose backend is killed: the apply fails, nothing is written, no staging table is left; a rerun converges', async () => {
    const ctx = () => ctxOf({ name: 'busy_kill', source: { table: 'busy', ordinalColumn: 'at' }, target: { table: 'busy_kill' } });
    const applying = applyFlow(ctx(), { streams: 3 }).then(() => undefined, (x: unknown) => x as Error);
    let killed = false;
    let settled = false;
    void applying.then(() => { settled = true; });
    while (!killed && !settled) {
      const { rows } = await t.tgt.sql(`SELECT pg_terminate_backend(pid) AS k FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tablesync load' AND state = 'active' AND query LIKE 'COPY%_load__busy_kill%' LIMIT 1`);
      killed = rows.length > 0;
    }
    const e = await applying;
    expect(killed, 'no stream was caught running').toBe(true);
    expect(e).toBeInstanceOf(Error);
    expect((await t.tgt.sql(`SELECT to_regclass('public.busy_kill') IS NULL AS gone`)).rows[0].gone).toBe('t');
    expect(await stagingTables()).toBe('0');
    await applyFlow(ctx(), { streams: 3 });
    expect(await fingerprint(t.tgt, 'busy_kill', 'id, v, at', 'id')).toEqual(await fingerprint(t.src, 'busy', 'id, v, at', 'id'));
  });

  it('a parallel load cancelled while its streams run: CANCELLED, nothing written, no staging table left', async () => {
    const ctx = ctxOf({ name: 'busy_cancel', source: { table: 'busy', ordinalColumn: 'at' }, target: { table: 'busy_cancel' } });
    const ac = new AbortController();
    const applying = applyFlow(ctx, { streams: 3, signal: ac.signal }).then(() => undefined, (x: unknown) => x as Error & { code?: string });
    let settled = false;
    void applying.then(() => { settled = true; });
    while (!settled) {
      const { rows } = await t.tgt.sql(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tablesync load' AND state = 'active' AND query LIKE 'COPY%_load__busy_cancel%'`);
      if (rows.length) break;
    }
    ac.abort();
    const e = await applying;
    expect(e?.code, String(e?.message)).toBe('CANCELLED');
    expect((await t.tgt.sql(`SELECT to_regclass('public.busy_cancel') IS NULL AS gone`)).rows[0].gone).toBe('t');
    expect(await stagingTables()).toBe('0');
  });

  it('a table of the staging name that is not ours is never touched: the load runs as one stream', async () => {
    await t.tgt.sql(`CREATE SCHEMA IF NOT EXISTS tablesync; CREATE TABLE tablesync."_load__dom_mine" (x int); INSERT INTO tablesync."_load__dom_mine" VALUES (42)`);
    const progress: ApplyProgress[] = [];
    await applyFlow(ctxOf({ name: 'dom_mine', source: { table: 'dom' }, target: { table: 'dom_mine' } }), { streams: 3, onProgress: (p) => progress.push(p) });
    expect(messages(progress)).toContain('1 stream, text COPY');
    expect(await fingerprint(t.tgt, 'dom_mine', 'id, p, note', 'id')).toEqual(await fingerprint(t.src, 'dom', 'id, p, note', 'id'));
    expect((await t.tgt.sql(`SELECT x FROM tablesync."_load__dom_mine"`)).rows).toEqual([{ x: '42' }]);
    await t.tgt.sql(`DROP TABLE tablesync."_load__dom_mine"`);
  });

  it('the source written during a parallel load: the load is one snapshot, and the next apply converges exactly', async () => {
    const ctx = () => ctxOf({ name: 'busy_live', source: { table: 'busy', ordinalColumn: 'at' }, target: { table: 'busy_live' } });
    let stop = false;
    let writes = 0;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        await t.src.sql(`UPDATE busy SET v = v + 1, at = clock_timestamp() WHERE id % 97 = $1`, [i % 97]);
        await t.src.sql(`INSERT INTO busy (id, v) VALUES ($1, 1)`, [100_000 + i]);
        await t.src.sql(`DELETE FROM busy WHERE id = $1`, [1 + ((i * 7919) % 60_000)]);
        writes++;
      }
    })();
    const first = await applyFlow(ctx(), { streams: 3 });
    stop = true;
    await writer;
    expect(writes).toBeGreaterThan(0);
    // Tracking describes exactly what landed: the table and tracking agree row for row.
    expect((await t.tgt.sql(`SELECT count(*) AS n FROM busy_live b FULL JOIN tablesync."rows__busy_live" r USING (id) WHERE b.id IS NULL OR r.id IS NULL OR r."__tablesync_ordinal" IS DISTINCT FROM b.at`)).rows[0].n).toBe('0');
    expect(first.rows.insert).toBe(Number((await t.tgt.sql(`SELECT count(*) AS n FROM busy_live`)).rows[0].n));
    await applyFlow(ctx());
    expect(await fingerprint(t.tgt, 'busy_live', 'id, v, at', 'id')).toEqual(await fingerprint(t.src, 'busy', 'id, v, at', 'id'));
    expect((await verifyFlow(ctx())).equal).toBe(true);
    expect((await applyFlow(ctx())).rows).toMatchObject({ insert: 0, update: 0, delete: 0 });
  });
});
