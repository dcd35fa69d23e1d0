import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyFlow, planFlow, syncKeys } from '../../core/target';
import { rowsOf, sourceAndTarget, type Pair } from './target-fixture';
import { runCli } from '../support/cli';

// Renaming a column in the flow (target.columns.X.name) is ALTER TABLE … RENAME COLUMN: safe, no
// rewrite (same relfilenode), rows untouched and still owned, tracking follows (a key rename
// renames the tracking table's column too). With a type change: rename, then alter the type.
// A target name over PostgreSQL's 63 bytes is refused at plan, naming it and its length.
const run = runCli;

describe('renames are renames', () => {
  let t: Pair;
  let dir: string;
  beforeAll(async () => {
    t = await sourceAndTarget('ren');
    dir = mkdtempSync(join(tmpdir(), 'tablesync-ren-'));
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(8,2), at timestamptz NOT NULL DEFAULT '2024-01-01')`);
    await t.src.sql(`INSERT INTO items (id, name, price) SELECT g, 'n' || g, g FROM generate_series(1, 200) g`);
  });
  afterAll(async () => { await t.close(); rmSync(dir, { recursive: true, force: true }); });
  const flow = (columns: Record<string, { name?: string; type?: string }> = {}, table = 'tg') =>
    t.ctx({ name: 'ren_flow', source: { table: 'items', ordinalColumn: 'at' }, target: { table, columns } });
  const filenode = async () => (await t.tgt.sql(`SELECT pg_relation_filenode('tg') AS f`)).rows[0].f;
  const cols = async () => (await t.tgt.sql(`SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = 'tg'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`)).rows.map((r) => `${r.attname} ${r.type}`);
  const tableSteps = (plan: Awaited<ReturnType<typeof planFlow>>) => plan.steps.filter((s) => s.kind !== 'state').map((s) => ({ kind: s.kind, sql: s.sql, destructive: s.destructive }));

  it('a value column rename: RENAME COLUMN, safe, no rewrite, nothing re-read', async () => {
    await applyFlow(flow());
    const before = await filenode();
    const plan = await planFlow(flow({ name: { name: 'title' } }));
    expect(tableSteps(plan)).toEqual([{ kind: 'rename-column', sql: ['ALTER TABLE "public"."tg" RENAME COLUMN "name" TO "title"'], destructive: false }]);
    expect(plan.rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 200 });
    expect(plan.warnings).toEqual([]);
    const r = await applyFlow(flow({ name: { name: 'title' } }));
    expect(r.rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 200 });
    expect(await filenode()).toBe(before);
    expect(await cols()).toEqual(['id integer', 'title text', 'price numeric(8,2)', 'at timestamp with time zone']);
    expect((await t.tgt.sql(`SELECT title FROM tg WHERE id = 7`)).rows).toEqual([{ title: 'n7' }]);
    // settled: nothing more to do, and changes keep flowing into the renamed column
    expect(tableSteps(await planFlow(flow({ name: { name: 'title' } })))).toEqual([]);
    await t.src.sql(`UPDATE items SET name = 'renamed?', at = at + interval '1 s' WHERE id = 7`);
    expect((await applyFlow(flow({ name: { name: 'title' } }))).rows).toMatchObject({ update: 1 });
    expect((await t.tgt.sql(`SELECT title FROM tg WHERE id = 7`)).rows).toEqual([{ title: 'renamed?' }]);
  });

  it('rename together with a type change: rename, then alter the type under the new name', async () => {
    const spec = { name: { name: 'title' }, price: { name: 'cost', type: 'numeric(12,3)' } };
    const plan = await planFlow(flow(spec));
    expect(tableSteps(plan)).toEqual([
      { kind: 'rename-column', sql: ['ALTER TABLE "public"."tg" RENAME COLUMN "price" TO "cost"'], destructive: false },
      { kind: 'alter-column-type', sql: ['ALTER TABLE "public"."tg" ALTER COLUMN "cost" TYPE numeric(12,3) USING "cost"::numeric(12,3)'], destructive: false },
    ]);
    await applyFlow(flow(spec));
    expect(await cols()).toEqual(['id integer', 'title text', 'cost numeric(12,3)', 'at timestamp with time zone']);
    expect((await t.tgt.sql(`SELECT cost FROM tg WHERE id = 9`)).rows).toEqual([{ cost: '9.000' }]);
    expect(tableSteps(await planFlow(flow(spec)))).toEqual([]);
  });

  it('a key column rename: the table and the tracking follow, ownership and deletes keep working', async () => {
    const spec = { id: { name: 'item_id' }, name: { name: 'title' }, price: { name: 'cost', type: 'numeric(12,3)' } };
    const before = await filenode();
    const plan = await planFlow(flow(spec));
    expect(tableSteps(plan)).toEqual([{ kind: 'rename-column', sql: ['ALTER TABLE "public"."tg" RENAME COLUMN "id" TO "item_id"'], destructive: false }]);
    expect(plan.steps.some((s) => s.kind === 'state' && s.sql[0]!.includes('RENAME COLUMN "id" TO "item_id"'))).toBe(true);
    expect(plan.rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 200 });
    // a row the user put in the table is still not the flow's after the rename
    await t.tgt.sql(`INSERT INTO tg VALUES (5000, 'mine', 1, now())`);
    expect((await planFlow(flow(spec))).rows.foreign).toBe(1);
    expect((await applyFlow(flow(spec))).rows).toMatchObject({ insert: 0, update: 0, delete: 0, unchanged: 200, foreign: 1 });
    expect(await filenode()).toBe(before);
    await t.src.sql(`DELETE FROM items WHERE id = 3`);
    await t.src.sql(`UPDATE items SET name = 'after key rename', at = at + interval '1 s' WHERE id = 4`);
    expect((await applyFlow(flow(spec))).rows).toMatchObject({ update: 1, delete: 1, foreign: 1 });
    await t.src.sql(`UPDATE items SET name = 'live', at = at + interval '1 s' WHERE id = 5`);
    await syncKeys(flow(spec), [['5']]);
    expect((await t.tgt.sql(`SELECT item_id, title FROM tg WHERE item_id IN (3, 4, 5, 5000) ORDER BY 1`)).rows).toEqual([
      { item_id: '4', title: 'after key rename' }, { item_id: '5', title: 'live' }, { item_id: '5000', title: 'mine' },
    ]);
  });

  it('back to the source names (override removed): renames again', async () => {
    await t.tgt.sql(`DELETE FROM tg WHERE item_id = 5000`);
    const plan = await planFlow(flow({ price: { type: 'numeric(12,3)' } }));
    expect(tableSteps(plan).map((s) => s.sql[0])).toEqual([
      'ALTER TABLE "public"."tg" RENAME COLUMN "item_id" TO "id"',
      'ALTER TABLE "public"."tg" RENAME COLUMN "title" TO "name"',
      'ALTER TABLE "public"."tg" RENAME COLUMN "cost" TO "price"',
    ]);
    expect(plan.steps.every((s) => !s.destructive)).toBe(true);
    await applyFlow(flow({ price: { type: 'numeric(12,3)' } }));
    const want = (await rowsOf(t.src, 'items')).map((r) => ({ ...r, price: Number(r.price).toFixed(3) }));
    expect(await rowsOf(t.tgt, 'tg')).toEqual(want);
  });

  it('a target name over 63 bytes is refused at plan, naming it and its length (CLI exit 2)', async () => {
    const long = 'é'.repeat(32); // 64 bytes in UTF-8
    await expect(planFlow(flow({ name: { name: long } }))).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/target\.columns\."name"\.name: the name "é+" is 64 bytes long; PostgreSQL names are at most 63 bytes/) });
    await expect(applyFlow(flow({ name: { name: long } }))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(planFlow(flow({}, 'x'.repeat(64)))).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('target.table: the name "xxxx') });
    expect(await cols()).toEqual(['id integer', 'name text', 'price numeric(12,3)', 'at timestamp with time zone']);
    const file = join(dir, 'long.json');
    writeFileSync(file, JSON.stringify({ version: 1, name: 'ren_flow', source: { connection: { url: t.src.url }, table: 'items', ordinalColumn: 'at' }, target: { connection: { url: t.tgt.url }, table: 'tg', columns: { name: { name: long } } } }));
    const r = await run(['plan', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('target.columns."name".name');
    expect(r.stderr).toContain('64 bytes');
    // 63 bytes is fine
    const fits = `${'é'.repeat(31)}x`;
    expect(tableSteps(await planFlow(flow({ name: { name: fits }, price: { type: 'numeric(12,3)' } })))).toEqual([{ kind: 'rename-column', sql: [`ALTER TABLE "public"."tg" RENAME COLUMN "name" TO "${fits}"`], destructive: false }]);
  });
});
