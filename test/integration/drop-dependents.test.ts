import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyFlow, dropFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { watch } from '../support/live';
import { dropPartsFor } from '../../core/app/drop-parts';
import { runCli } from '../support/cli';

// Issue 9 C3: a drop whose table has dependents that are not the flow's (a view an attachment
// created, with no teardown for it; another table's foreign key) names them and the attachment,
// offers --cascade, and drops nothing: not the table, not the state, not the source's trigger.

const run = runCli;

describe('drop with dependent objects', () => {
  let t: Pair;
  let dir: string;
  const exists = async (rel: string) => (await t.tgt.sql(`SELECT to_regclass($1) IS NOT NULL AS e`, [rel])).rows[0].e === 't';
  const triggers = async () => Number((await t.src.sql(`SELECT count(*) AS n FROM pg_trigger WHERE tgrelid = 'items'::regclass AND NOT tgisinternal`)).rows[0].n);
  const flowSpec = {
    name: 'dep_flow',
    source: { table: 'items', notification: {} },
    target: { table: 'items_copy', sqlAttachments: [{ name: 'names_view', setupSql: 'CREATE VIEW item_names AS SELECT id, name FROM items_copy' }] },
  };

  beforeAll(async () => {
    t = await sourceAndTarget('dropdep');
    dir = mkdtempSync(join(tmpdir(), 'tablesync-dropdep-'));
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, name text)`);
    await t.src.sql(`INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 10) g`);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('names the view and the attachment, drops nothing; --cascade drops it', async () => {
    const ctx = t.ctx(flowSpec);
    await applyFlow(ctx);
    const w = watch(ctx);
    await w.live();
    await w.stop();
    expect(await triggers()).toBe(2);
    await t.tgt.sql(`CREATE TABLE orders (id int PRIMARY KEY, item int REFERENCES items_copy (id))`);

    const again = t.ctx(flowSpec);
    const err = await dropFlow(again, dropPartsFor(again.flow), { allowDestructive: true }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INCOMPATIBLE_TARGET' });
    const message = (err as Error).message;
    expect(message).toContain('view item_names (created by attachment "names_view", whose teardown does not remove it)');
    expect(message).toContain('constraint orders_item_fkey on table orders (not created by this flow)');
    expect(message).toContain('--cascade');
    expect(message).toContain('Nothing was dropped');
    // nothing dropped anywhere
    expect(await exists('public.items_copy')).toBe(true);
    expect(await exists('public.item_names')).toBe(true);
    expect((await t.tgt.sql(`SELECT count(*) AS n FROM tablesync.flows WHERE flow = 'dep_flow'`)).rows[0].n).toBe('1');
    expect(await triggers()).toBe(2);

    // the CLI: exit 2, the same message, as JSON with --json; then --cascade
    const file = join(dir, 'flow.json');
    writeFileSync(file, JSON.stringify({ version: 1, ...flowSpec, source: { ...flowSpec.source, connection: { url: t.src.url } }, target: { ...flowSpec.target, connection: { url: t.tgt.url } } }));
    const refused = await run(['drop', file, '--allow-destructive', '--json']);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'INCOMPATIBLE_TARGET', message: expect.stringContaining('attachment "names_view"') });
    expect(await exists('public.items_copy')).toBe(true);
    expect(await triggers()).toBe(2);

    const dropped = await run(['drop', file, '--allow-destructive', '--cascade', '--json']);
    expect(dropped.code).toBe(0);
    expect(JSON.parse(dropped.stdout).steps.find((s: { kind: string }) => s.kind === 'drop-table').sql).toEqual(['DROP TABLE IF EXISTS "public"."items_copy" CASCADE']);
    expect(await exists('public.items_copy')).toBe(false);
    expect(await exists('public.item_names')).toBe(false);
    expect(await exists('public.orders')).toBe(true);
    expect(await triggers()).toBe(0);
  });

  it('a teardown that removes the view lets the drop through without --cascade', async () => {
    const spec = { ...flowSpec, name: 'dep_flow2', target: { table: 'items_copy2', sqlAttachments: [{ name: 'v', setupSql: 'CREATE VIEW v2 AS SELECT id FROM items_copy2', teardownSql: 'DROP VIEW v2' }] } };
    await applyFlow(t.ctx(spec));
    const c2 = t.ctx(spec);
    await dropFlow(c2, dropPartsFor(c2.flow), { allowDestructive: true });
    expect(await exists('public.items_copy2')).toBe(false);
  });
});
