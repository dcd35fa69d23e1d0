import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, planFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { rowsAsLines, waitForSameRows, watch } from '../support/live';
import { logicalNames } from '../../core/live';

// Source tables whose physical shape is not their logical one: a dropped column in the middle
// (attisdropped), a stored generated column, partitions whose columns are in another order than
// the root's (one with a dropped column of its own), and a filter that calls a function. The
// initial load (one stream and several, binary and text) must land exactly the filtered source's
// rows, each value in its own column; the next plan finds nothing to do.
describe('initial load: tables whose physical columns differ from their logical ones', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('lshp');
    for (const db of [t.src, t.tgt]) await db.sql(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`);
    await t.src.sql(`CREATE FUNCTION is_kept(t text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT t NOT LIKE '%3' $$`);
    // a dropped column between kept ones, a stored generated column
    await t.src.sql(`CREATE TABLE plain (id int PRIMARY KEY, gone1 text, a text, gone2 int, b int, moods mood[], g int GENERATED ALWAYS AS (b * 2) STORED, c text)`);
    await t.src.sql(`INSERT INTO plain (id, gone1, a, gone2, b, moods, c) SELECT g, 'x' || g, 'a' || g, g, g, ARRAY['sad', 'happy']::mood[], E'c\\t' || g FROM generate_series(1, 300) g`);
    await t.src.sql(`ALTER TABLE plain DROP COLUMN gone1, DROP COLUMN gone2`);
    // a partitioned table: one partition created with its columns in another order, one with a dropped column
    await t.src.sql(`CREATE TABLE parted (id int, a text, b int, c text, PRIMARY KEY (id)) PARTITION BY RANGE (id)`);
    await t.src.sql(`CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100)`);
    await t.src.sql(`CREATE TABLE parted_2 (c text, b int, extra int, a text, id int NOT NULL)`);
    await t.src.sql(`ALTER TABLE parted_2 DROP COLUMN extra`);
    await t.src.sql(`ALTER TABLE parted ATTACH PARTITION parted_2 FOR VALUES FROM (100) TO (200)`);
    await t.src.sql(`CREATE TABLE parted_3 (b int, id int NOT NULL, c text, a text)`);
    await t.src.sql(`ALTER TABLE parted ATTACH PARTITION parted_3 FOR VALUES FROM (200) TO (300)`);
    await t.src.sql(`INSERT INTO parted SELECT g, 'a' || g, g, 'c' || g FROM generate_series(0, 299) g`);
  });
  afterAll(async () => { await t?.close(); });

  const cases = [
    { table: 'plain', cols: 'id, a, b, moods::text AS moods, g, c' },
    { table: 'parted', cols: 'id, a, b, c' },
  ];
  for (const { table, cols } of cases) {
    for (const streams of [1, 3]) {
      for (const filter of [undefined, 'is_kept(a)']) {
        it(`${table}, ${streams} stream(s)${filter ? ', a filter calling a function' : ''}: exactly the source's rows`, async () => {
          const target = `${table}_${streams}${filter ? '_f' : ''}`;
          const ctx = t.ctx({ name: `lshp_${target}`, source: { table, ...(filter ? { filter } : {}) }, target: { table: target }, load: { streams } });
          await applyFlow(ctx);
          const [a, b] = await Promise.all([
            rowsAsLines(t.src.pool, `SELECT ${cols} FROM ${table}${filter ? ` WHERE ${filter}` : ''}`),
            rowsAsLines(t.tgt.pool, `SELECT ${cols} FROM ${target}`),
          ]);
          expect(b.length).toBe(filter ? 270 : 300);
          expect(b).toEqual(a);
          expect((await planFlow(ctx)).rows).toMatchObject({ insert: 0, update: 0, delete: 0 });
        });
      }
    }
  }

  for (const mode of ['notification', 'replication'] as const) {
    for (const { table, cols } of cases) {
      it(`${mode}, ${table}: live changes (moves between partitions of other column orders, the generated column) arrive exactly`, async () => {
        const target = `${table}_${mode}`;
        const filter = 'is_kept(a)';
        const ctx = t.ctx({ name: `lshp_${target}`, source: { table, filter, [mode]: {} }, target: { table: target } });
        const same = (what: string) => waitForSameRows(`${mode} ${table}: ${what}`, t.src.pool, `SELECT ${cols} FROM ${table} WHERE ${filter}`, t.tgt.pool, `SELECT ${cols} FROM ${target}`, 30_000);
        const w = watch(ctx);
        try {
          await w.live();
          await same('loaded');
          await t.src.sql(`UPDATE ${table} SET b = b + 1000, c = c || '!' WHERE id % 7 = 0`);
          await t.src.sql(`DELETE FROM ${table} WHERE id BETWEEN 250 AND 260 OR id BETWEEN 80 AND 85`);
          await t.src.sql(`UPDATE ${table} SET id = id + 100 WHERE id BETWEEN 150 AND 160`); // into the next partition
          await t.src.sql(`UPDATE ${table} SET id = id - 150 WHERE id BETWEEN 230 AND 235`); // two partitions back
          await t.src.sql(`UPDATE ${table} SET a = a || '3' WHERE id BETWEEN 40 AND 45`); // leaves the filter
          await t.src.sql(`UPDATE ${table} SET a = 'back' WHERE id IN (13, 113, 213)`); // enters it
          await t.src.sql(`DELETE FROM ${table} WHERE id IN (1, 101, 201)`);
          await t.src.sql(`INSERT INTO ${table} (id, a, b, c) VALUES (1, 'new', 5, 'n'), (299, 'last', 6, 'l') ON CONFLICT (id) DO UPDATE SET a = 'conflict'`);
          await same('after live changes');
        } finally {
          await w.stop();
          if (mode === 'replication') await t.src.sql(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [logicalNames(ctx.flow).slot]).catch(() => {});
        }
      });
    }
  }
});
