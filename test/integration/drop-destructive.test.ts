import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, dropFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';

// Dropping a flow whose table holds rows deletes data: refused (nothing written, the steps named)
// unless allowed; the dry run lists the step as destructive with its SQL. An empty table drops freely.
describe('drop deletes a table with data only when allowed', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('drop_guard');
    await t.src.sql(`CREATE TABLE notes (id int PRIMARY KEY, body text)`);
    await t.src.sql(`INSERT INTO notes VALUES (1, 'a'), (2, 'b')`);
  });
  afterAll(async () => { await t?.close(); });

  const tableExists = async (name: string) => (await t.tgt.sql(`SELECT to_regclass($1) IS NOT NULL AS e`, [name])).rows[0].e;

  it('refuses, then drops when allowed', async () => {
    const ctx = t.ctx({ name: 'guarded', source: { table: 'notes' }, target: { table: 'notes_copy' } });
    await applyFlow(ctx);
    const dry = await dropFlow(ctx, [], { dryRun: true });
    const table = dry.steps.find((s) => s.kind === 'drop-table')!;
    expect(table).toMatchObject({ destructive: true, hazards: ['deletes-data', 'exclusive-lock'], sql: ['DROP TABLE IF EXISTS "public"."notes_copy"'] });
    await expect(dropFlow(ctx, [])).rejects.toMatchObject({ code: 'DESTRUCTIVE_NOT_ALLOWED', message: expect.stringContaining('drop table "public"."notes_copy"') });
    expect(await tableExists('public.notes_copy')).toBe('t');
    expect((await t.tgt.sql(`SELECT count(*) AS n FROM notes_copy`)).rows[0].n).toBe('2');
    await dropFlow(ctx, [], { allowDestructive: true });
    expect(await tableExists('public.notes_copy')).toBe('f');
  });

  it('drops an empty table without asking', async () => {
    const ctx = t.ctx({ name: 'empty_one', source: { table: 'notes', filter: 'false' }, target: { table: 'notes_none' } });
    await applyFlow(ctx);
    const dry = await dropFlow(ctx, [], { dryRun: true });
    expect(dry.steps.find((s) => s.kind === 'drop-table')).toMatchObject({ destructive: false });
    await dropFlow(ctx, []);
    expect(await tableExists('public.notes_none')).toBe('f');
  });
});
