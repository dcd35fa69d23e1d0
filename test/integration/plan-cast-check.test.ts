import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyFlow, planFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { runCli } from '../support/cli';

// Issue 9 C1: values that cannot be cast to their target type are found by plan (column, failing
// rows, a sample key and value), and apply refuses with exit 2, nothing written. On PG 16+ the
// target decides with pg_input_is_valid, on PG 15 with a temporary function: both run here.

const run = runCli;

describe('plan finds values that do not fit their target type', () => {
  let t: Pair;
  let dir: string;
  const nothingWritten = async () => {
    expect((await t.tgt.sql(`SELECT to_regnamespace('tablesync') AS s`)).rows[0].s).toBeNull();
    expect((await t.tgt.sql(`SELECT count(*) AS n FROM pg_class WHERE relname = 'items'`)).rows[0].n).toBe('0');
  };
  beforeAll(async () => {
    t = await sourceAndTarget('cast');
    dir = mkdtempSync(join(tmpdir(), 'tablesync-cast-'));
    await t.src.sql(`CREATE TYPE mood AS ENUM ('happy', 'sad', 'ecstatic')`);
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, code text, price numeric(10,2), mood mood)`);
    await t.src.sql(`INSERT INTO items SELECT g, g::text, g + 0.5, CASE WHEN g % 2 = 0 THEN 'happy' ELSE 'sad' END::mood FROM generate_series(1, 300) g`);
    await t.src.sql(`UPDATE items SET code = 'abc' WHERE id IN (7, 9)`);
    await t.src.sql(`UPDATE items SET code = '12x' WHERE id = 11`);
    await t.src.sql(`INSERT INTO items VALUES (40000, '40000', 1, 'happy'), (40001, '40001', 2, 'sad')`);
    await t.src.sql(`UPDATE items SET mood = 'ecstatic' WHERE id IN (3, 5, 40001)`);
    await t.tgt.sql(`CREATE TYPE mood AS ENUM ('happy', 'sad')`);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  const base = { source: { table: 'items', includedColumns: ['code', 'price'] }, target: { table: 'items' } };

  it('text → integer with "abc": column, failing rows, sample key and value; apply exit 2', async () => {
    const flow = { name: 'cast_code', ...base, target: { ...base.target, columns: { code: { type: 'integer' } } } };
    const plan = await planFlow(t.ctx(flow));
    expect(plan.blockers).toHaveLength(1);
    expect(plan.blockers[0]).toMatchObject({ code: 'UNSUPPORTED', column: 'code', failingRows: 3, sample: { key: { id: '11' }, value: '12x' } });
    expect(plan.blockers[0]!.message).toContain('column "code": 3 rows of the source have values that cannot be stored as integer');
    expect(plan.blockers[0]!.message).toContain('id=11: "12x": invalid input syntax for type integer');
    await expect(applyFlow(t.ctx(flow))).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('column "code": 3 rows') });
    await nothingWritten();

    const file = join(dir, 'code.json');
    writeFileSync(file, JSON.stringify({ version: 1, ...flow, source: { ...flow.source, connection: { url: t.src.url } }, target: { ...flow.target, connection: { url: t.tgt.url } } }));
    const cli = await run(['apply', file, '--json']);
    expect(cli.code).toBe(2);
    expect(JSON.parse(cli.stdout).error).toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('column "code"') });
    const planCli = await run(['plan', file]);
    expect(planCli.code).toBe(2);
    expect(planCli.stderr).toContain('column "code": 3 rows');
    await nothingWritten();
  });

  it('a key → smallint out of range', async () => {
    const flow = { name: 'cast_key', ...base, target: { ...base.target, columns: { id: { type: 'smallint' } } } };
    const plan = await planFlow(t.ctx(flow));
    expect(plan.blockers).toEqual([expect.objectContaining({ column: 'id', failingRows: 2, sample: { key: { id: '40000' }, value: '40000' } })]);
    expect(plan.blockers[0]!.message).toContain('key column "id": 2 rows');
    expect(plan.blockers[0]!.message).toContain('smallint out of range');
    await expect(applyFlow(t.ctx(flow))).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('key column "id"') });
    await nothingWritten();
  });

  it('an enum in the target that lacks a label', async () => {
    const flow = { name: 'cast_enum', source: { table: 'items', includedColumns: ['mood'] }, target: { table: 'items' } };
    const plan = await planFlow(t.ctx(flow));
    expect(plan.blockers).toEqual([expect.objectContaining({ column: 'mood', failingRows: 3, sample: { key: { id: '3' }, value: 'ecstatic' } })]);
    expect(plan.blockers[0]!.message).toContain('invalid input value for enum mood: "ecstatic"');
    expect(plan.blockers[0]!.message).toContain("add the missing labels to the target's type");
    await expect(applyFlow(t.ctx(flow))).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('column "mood": 3 rows') });
    await nothingWritten();
  });

  it('casts that fit pass: filtered rows, numeric → integer rounding, widening', async () => {
    const flow = {
      name: 'cast_ok',
      source: { table: 'items', includedColumns: ['code', 'price', 'mood'], filter: `code ~ '^[0-9]+$' AND mood <> 'ecstatic'` },
      target: { table: 'items', columns: { code: { type: 'integer' }, price: { type: 'integer' }, id: { type: 'bigint' } } },
    };
    const plan = await planFlow(t.ctx(flow));
    expect(plan.blockers).toEqual([]);
    expect(plan.rows.insert).toBe(302 - 3 - 3);
    const r = await applyFlow(t.ctx(flow));
    expect(r.rows.insert).toBe(296);
    expect((await t.tgt.sql(`SELECT code, price, mood::text FROM items WHERE id = 4`)).rows).toEqual([{ code: '4', price: '5', mood: 'happy' }]);
  });
});
