import { afterAll, beforeAll, describe, it } from 'vitest';
import { logicalNames } from '../../core/live';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitForSameRows, watch } from '../support/live';

// Values users keep, through the live paths (trigger capture's re-read by key, logical capture's
// streamed text applied directly): enum, domain, arrays of text/int/enum, composite, bytea, json
// (text-preserving: spacing, key order, duplicate keys), jsonb, numeric NaN and ±Infinity, float
// specials, timestamptz/date infinities, text with backslashes, tabs, newlines, quotes and
// unicode, and NULL in every column. Inserted live, updated live, key-changed live: the target's
// text of every column equals the source's.
describe('live capture keeps every value exact', () => {
  let t: Pair;
  const COLS = ['m', 'd', 'ta', 'ia', 'ma', 'c', 'b', 'j', 'jb', 'n', 'f', 'ts', 'dt', 'txt', 'iv', 'u'];
  const cmp = (table: string) => `SELECT id, ${COLS.map((c) => `${c}::text AS ${c}`).join(', ')} FROM ${table}`;
  const values = (id: number) => [
    `(${id}, 'happy "q"', 42, ARRAY['a "q"', NULL, 'b,c', '{}', 'NULL', E'tab\\there', '', E'back\\\\slash'], '{{1,2},{3,NULL}}', ARRAY['sad', 'happy "q"']::mood[], ROW(1, E'x,"y"\\\\')::pair,
      '\\x00ff5c0a0d09', '{"b": 1,  "a": [1.10, null], "b": 2}', '{"z": 1.10, "a": "x\\ny"}', 'NaN', '-Infinity', 'infinity', '-infinity',
      E'line1\\nline2\\ttab\\\\back \\\\N \\\\. ''quote'' naïve 日本語 😀 👩‍👩‍👧', '1 year 2 mons -3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')`,
    `(${id + 1}, 'sad', -1, '{}', '{}', '{}', ROW(NULL, NULL)::pair, '\\x', 'null', '[]', 'Infinity', 'NaN', '-infinity', 'infinity', '', '0', '00000000-0000-0000-0000-000000000000')`,
    `(${id + 2}, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
    `(${id + 3}, 'ok', 0, ARRAY[E'\\\\', '\\N', E'\\t', ' lead', 'trail '], '{-2147483648}', '{ok}', ROW(-5, '')::pair, '\\xdeadbeef', '"é\\u00e9"', '"😀"', '12345678901234567890.123456789012345678', '1e-308', '2024-02-29 23:59:59.123456+05:30', '0001-01-01 BC', E'\\\\.', '-1 day +02:00', 'ffffffff-ffff-ffff-ffff-ffffffffffff')`,
  ].join(', ');

  beforeAll(async () => {
    t = await sourceAndTarget('lval');
    // the same types on both sides (a missing one is refused, naming the override to set)
    for (const db of [t.src, t.tgt]) {
      await db.sql(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy "q"')`);
      await db.sql(`CREATE DOMAIN posint AS int CHECK (VALUE > -10)`);
      await db.sql(`CREATE TYPE pair AS (a int, b text)`);
    }
  });
  afterAll(async () => { await t?.close(); });

  for (const mode of ['notification', 'replication'] as const) {
    it(`${mode}: inserts, updates and key changes of every kind of value`, async () => {
      const table = `vals_${mode}`;
      await t.src.sql(`CREATE TABLE ${table} (id int PRIMARY KEY, m mood, d posint, ta text[], ia int[], ma mood[], c pair, b bytea, j json, jb jsonb, n numeric, f float8, ts timestamptz, dt date, txt text, iv interval, u uuid)`);
      await t.src.sql(`INSERT INTO ${table} VALUES ${values(1)}`);
      const ctx = t.ctx({ name: `lval_${mode}`, source: { table, [mode]: {} }, target: { table: `${table}_copy` } });
      const same = (what: string) => waitForSameRows(`${mode}: ${what}`, t.src.pool, cmp(table), t.tgt.pool, cmp(`${table}_copy`), 30_000);
      const w = watch(ctx);
      try {
        await w.live();
        await same('initial load');
        await t.src.sql(`INSERT INTO ${table} VALUES ${values(11)}`);
        await same('live inserts');
        // each row takes the next row's values (NULLs become values and values NULLs)
        await t.src.sql(`UPDATE ${table} x SET (m, d, ta, ia, ma, c, b, j, jb, n, f, ts, dt, txt, iv, u) = (SELECT m, d, ta, ia, ma, c, b, j, jb, n, f, ts, dt, txt, iv, u FROM ${table} y WHERE y.id = CASE WHEN x.id % 10 = 4 THEN x.id - 3 ELSE x.id + 1 END) WHERE id > 10`);
        await same('live updates');
        await t.src.sql(`UPDATE ${table} SET id = id + 100 WHERE id IN (1, 2, 3)`);
        await t.src.sql(`BEGIN; DELETE FROM ${table} WHERE id = 4; INSERT INTO ${table} VALUES ${values(4).split('), (')[0]!}); COMMIT`);
        await same('key changes and a re-insert');
      } finally {
        await w.stop();
        if (mode === 'replication') await t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [logicalNames(ctx.flow).slot]).catch(() => {});
      }
    });
  }
});
