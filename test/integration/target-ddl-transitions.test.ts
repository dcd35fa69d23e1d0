import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, dropFlow, planFlow } from '../../core/target';
import { rowsOf, sourceAndTarget, type Pair } from './target-fixture';

// Every DDL transition of a system-managed table: create, add column, drop column (destructive),
// type change with a cast, type change without one (drop + re-add + refill), key change
// (recreate), a moved target, and drop with the flow.
describe('system-managed DDL transitions', () => {
  let t: Pair;
  const cols = async () => (await t.tgt.sql(`SELECT attname AS name, format_type(atttypid, atttypmod) AS type, attnotnull AS nn FROM pg_attribute WHERE attrelid = 'public.docs'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`)).rows;
  const base = { name: 'docs', source: { table: 'docs_src' }, target: { table: 'docs' } };
  beforeAll(async () => {
    t = await sourceAndTarget();
    await t.src.sql(`CREATE TABLE docs_src (id int PRIMARY KEY, title varchar(40), body text, flag text, score numeric(12,2))`);
    await t.src.sql(`INSERT INTO docs_src SELECT g, 't' || g, 'body ' || g, (g % 2)::text, g / 3.0 FROM generate_series(1, 50) g`);
  });
  afterAll(async () => { await t.close(); });

  it('creates the table with the exact source types and the source key', async () => {
    const ctx = t.ctx({ ...base, source: { ...base.source, includedColumns: ['title', 'score'] } });
    const plan = await planFlow(ctx);
    const create = plan.steps.find((s) => s.kind === 'create-table')!;
    expect(create.sql[0]).toContain('"title" character varying(40)');
    expect(create.sql[0]).toContain('PRIMARY KEY ("id")');
    await applyFlow(ctx);
    expect(await cols()).toEqual([
      { name: 'id', type: 'integer', nn: 't' },
      { name: 'title', type: 'character varying(40)', nn: 'f' },
      { name: 'score', type: 'numeric(12,2)', nn: 'f' },
    ]);
  });

  it('adds a column and fills it from the source', async () => {
    const ctx = t.ctx({ ...base, source: { ...base.source, includedColumns: ['title', 'score', 'body'] } });
    const plan = await planFlow(ctx);
    expect(plan.steps.map((s) => [s.kind, s.destructive])).toEqual([['add-column', false]]);
    expect(plan.steps[0]!.sql).toEqual(['ALTER TABLE "public"."docs" ADD COLUMN "body" text']);
    expect(plan.rows.update).toBe(50);
    const r = await applyFlow(ctx);
    expect(r.rows.update).toBe(50);
    expect((await rowsOf(t.tgt, 'docs'))[4]).toEqual({ id: '5', title: 't5', score: '1.67', body: 'body 5' });
  });

  it('drops a column only when destruction is allowed', async () => {
    const ctx = t.ctx({ ...base, source: { ...base.source, includedColumns: ['title', 'score', 'flag'] } });
    const plan = await planFlow(ctx);
    const drop = plan.steps.find((s) => s.kind === 'drop-column')!;
    expect(drop).toMatchObject({ destructive: true, hazards: ['deletes-data', 'exclusive-lock'] });
    await expect(applyFlow(ctx)).rejects.toMatchObject({ code: 'DESTRUCTIVE_NOT_ALLOWED' });
    expect((await cols()).map((c) => c.name)).toContain('body');
    await applyFlow(ctx, { allowDestructive: true });
    expect((await cols()).map((c) => c.name)).toEqual(['id', 'title', 'score', 'flag']);
    expect((await rowsOf(t.tgt, 'docs'))[0]!.flag).toBe('1');
  });

  it('changes a type with a USING cast where one exists', async () => {
    const ctx = t.ctx({ ...base, source: { ...base.source, includedColumns: ['title', 'score', 'flag'] }, target: { ...base.target, columns: { score: { type: 'numeric(14,4)' }, flag: { type: 'numeric' } } } });
    const plan = await planFlow(ctx);
    const steps = plan.steps.filter((s) => s.kind === 'alter-column-type');
    expect(steps.map((s) => s.sql[0])).toEqual([
      'ALTER TABLE "public"."docs" ALTER COLUMN "flag" TYPE numeric USING "flag"::numeric',
      'ALTER TABLE "public"."docs" ALTER COLUMN "score" TYPE numeric(14,4) USING "score"::numeric(14,4)',
    ]);
    expect(steps.every((s) => !s.destructive && s.hazards.includes('rewrites-table'))).toBe(true);
    await applyFlow(ctx);
    expect((await cols()).map((c) => c.type)).toEqual(['integer', 'character varying(40)', 'numeric(14,4)', 'numeric']);
    // The source's value re-read through the new type: 5/3.0 stored in the source as 1.67.
    expect((await rowsOf(t.tgt, 'docs'))[4]!.score).toBe('1.6700');
  });

  it('drops and re-adds a column when no cast exists, refilling it from the source', async () => {
    // numeric → boolean has no cast; the source's text '0'/'1' does cast to boolean.
    const ctx = t.ctx({ ...base, source: { ...base.source, includedColumns: ['title', 'score', 'flag'] }, target: { ...base.target, columns: { score: { type: 'numeric(14,4)' }, flag: { type: 'boolean' } } } });
    const plan = await planFlow(ctx);
    const step = plan.steps.find((s) => s.kind === 'alter-column-type')!;
    expect(step.sql).toEqual(['ALTER TABLE "public"."docs" DROP COLUMN "flag"', 'ALTER TABLE "public"."docs" ADD COLUMN "flag" boolean']);
    expect(step.destructive).toBe(true);
    await applyFlow(ctx, { allowDestructive: true });
    const rows = await rowsOf(t.tgt, 'docs');
    expect(rows.slice(0, 2).map((r) => r.flag)).toEqual(['t', 'f']);
  });

  it('recreates the table when the key changes', async () => {
    const ctx = t.ctx({ ...base, source: { ...base.source, includedColumns: ['title'] }, target: { ...base.target, columns: { id: { type: 'bigint' } } } });
    const plan = await planFlow(ctx);
    expect(plan.steps.map((s) => s.kind)).toEqual(['recreate-table', 'state', 'state']);
    expect(plan.steps[0]).toMatchObject({ destructive: true, hazards: ['deletes-data', 'rewrites-table', 'exclusive-lock'] });
    expect(plan.rows.insert).toBe(50);
    await expect(applyFlow(ctx)).rejects.toMatchObject({ code: 'DESTRUCTIVE_NOT_ALLOWED' });
    const r = await applyFlow(ctx, { allowDestructive: true });
    expect(r.rows.insert).toBe(50);
    expect((await cols()).map((c) => [c.name, c.type])).toEqual([['id', 'bigint'], ['title', 'character varying(40)']]);
  });

  it('moves to another table: creates the new one and drops the old one (destructive)', async () => {
    const ctx = t.ctx({ ...base, source: { ...base.source, includedColumns: ['title'] }, target: { table: 'docs2', columns: { id: { type: 'bigint' } } } });
    const plan = await planFlow(ctx);
    expect(plan.steps.map((s) => s.kind)).toEqual(['drop-table', 'create-table', 'state', 'state']);
    await applyFlow(ctx, { allowDestructive: true });
    expect((await t.tgt.sql(`SELECT to_regclass('public.docs') AS a, to_regclass('public.docs2') AS b`)).rows[0]).toEqual({ a: null, b: 'docs2' });
  });

  it('drops everything with the flow', async () => {
    const ctx = t.ctx({ ...base, source: { ...base.source, includedColumns: ['title'] }, target: { table: 'docs2' } });
    const { steps } = await dropFlow(ctx, [], { allowDestructive: true });
    expect(steps.map((s) => s.kind)).toEqual(['drop-table', 'state']);
    const left = (await t.tgt.sql(`SELECT to_regclass('public.docs2') AS a, (SELECT count(*) FROM tablesync.flows) AS n, (SELECT count(*) FROM pg_tables WHERE schemaname = 'tablesync') AS tables`)).rows[0];
    expect(left).toEqual({ a: null, n: '0', tables: '1' });
  });
});
