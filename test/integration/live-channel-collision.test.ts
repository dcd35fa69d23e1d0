import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyFlow, dropFlow } from '../../core/target';
import { dropPartsFor } from '../../core/app/drop-parts';
import { TableSyncError } from '../../core/errors';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitForSameRows, watch } from '../support/live';

// TableSync never touches a capture object that is not its own (issue 9 A): a second flow with the
// same channelName is refused (the first keeps working, also after both stop), a channelName that
// matches the user's own trigger and function is refused, and drop removes only what it owns.
const BIN = join(__dirname, '..', '..', 'bin', 'tablesync.mjs');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

describe('capture objects that are not ours are never touched', () => {
  let t: Pair;
  let dir: string;
  const objects = async () => (await t.src.sql(
    `SELECT c.relname || '.' || g.tgname AS o FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid WHERE NOT g.tgisinternal
     UNION ALL SELECT n.nspname || '.' || proname || '()' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN ('public', 'other') ORDER BY 1`,
  )).rows.map((r) => r.o as string);
  const flowFile = (name: string, spec: object) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ version: 1, name, ...spec }));
    return file;
  };

  beforeAll(async () => {
    t = await sourceAndTarget('live_collide');
    dir = mkdtempSync(join(tmpdir(), 'tablesync-collide-'));
    await t.src.sql(`CREATE TABLE orders (id int PRIMARY KEY, total numeric)`);
    await t.src.sql(`CREATE TABLE customers (code text PRIMARY KEY, name text)`);
    await t.src.sql(`INSERT INTO orders VALUES (1, 10), (2, 20); INSERT INTO customers VALUES ('a', 'Ann')`);
    // The user's own audit trigger and function, named as a channel "audit" would name ours.
    await t.src.sql(`CREATE TABLE audit_log (at timestamptz DEFAULT now(), tbl text, op text)`);
    await t.src.sql(`CREATE FUNCTION audit_n() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit_log (tbl, op) VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $$`);
    await t.src.sql(`CREATE TRIGGER audit_t AFTER INSERT OR UPDATE OR DELETE ON customers FOR EACH ROW EXECUTE FUNCTION audit_n()`);
    await t.src.sql(`CREATE SCHEMA other; CREATE TABLE other.orders (id int PRIMARY KEY, total numeric)`);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t?.close();
  });

  it('refuses a second flow on the same channel; the first flow and the source writes keep working', async () => {
    const first = t.ctx({ name: 'orders_flow', source: { table: 'orders', notification: { channelName: 'shared' } }, target: { table: 'orders' } });
    const second = t.ctx({ name: 'customers_flow', source: { table: 'customers', notification: { channelName: 'shared' } }, target: { table: 'customers' } });
    await applyFlow(first);
    await applyFlow(second);
    const w1 = watch(first);
    await w1.live();
    const before = await objects();

    const w2 = watch(second);
    const err = (await w2.handle.done.then(() => undefined, (e: unknown) => e)) as TableSyncError;
    expect(err).toBeInstanceOf(TableSyncError);
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain('function "public"."shared_n"() belongs to TableSync flow "orders_flow" (capturing "public"."orders")');
    expect(w2.statuses.at(-1)).toMatchObject({ state: 'failed' });
    expect(await objects()).toEqual(before);

    // The CLI says the same with exit 2, and writes nothing.
    const file = flowFile('customers_flow', { source: { connection: { url: t.src.url }, table: 'customers', notification: { channelName: 'shared' } }, target: { connection: { url: t.tgt.url }, table: 'customers' } });
    const r = await cli(['watch', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('belongs to TableSync flow "orders_flow"');
    expect(await objects()).toEqual(before);

    await t.src.sql(`UPDATE orders SET total = 11 WHERE id = 1`);
    await waitForSameRows('first flow still syncs', t.src.pool, `SELECT * FROM orders`, t.tgt.pool, `SELECT * FROM orders`);
    await w1.stop();
    await w2.stop();
    // With both stopped, the first table's writes still work (the function was never rewritten).
    await t.src.sql(`UPDATE orders SET total = 12 WHERE id = 1; DELETE FROM orders WHERE id = 2; INSERT INTO orders VALUES (3, 30)`);

    // Dropping the refused flow leaves the first flow's objects alone, and says so.
    const dry = await dropFlow(second, dropPartsFor(second.flow), { dryRun: true });
    const step = dry.steps.find((s) => s.kind === 'drop-trigger');
    expect(step?.sql).toEqual([]);
    expect(step?.summary).toContain('left alone, not this flow\'s:');
    expect(step?.summary).toContain('function "public"."shared_n"() (TableSync flow "orders_flow"');
    await dropFlow(second, dropPartsFor(second.flow), { allowDestructive: true });
    expect(await objects()).toEqual(before);
    await t.src.sql(`UPDATE orders SET total = 13 WHERE id = 1`);
  });

  it('refuses the same channel from a flow on a table in another schema (two flows would hear each other)', async () => {
    const other = t.ctx({ name: 'other_orders', source: { schema: 'other', table: 'orders', notification: { channelName: 'shared' } }, target: { table: 'other_orders' } });
    await applyFlow(other);
    const w = watch(other);
    const err = (await w.handle.done.then(() => undefined, (e: unknown) => e)) as TableSyncError;
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain('the channel "shared" is already used by TableSync flow "orders_flow"');
    expect((await objects()).filter((o) => o.startsWith('other.'))).toEqual([]);
  });

  it('refuses a channel named like the user\'s own trigger and function, and drop never removes them', async () => {
    const audit = t.ctx({ name: 'audit_flow', source: { table: 'customers', notification: { channelName: 'audit' } }, target: { table: 'customers' } });
    const w = watch(audit);
    const err = (await w.handle.done.then(() => undefined, (e: unknown) => e)) as TableSyncError;
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain('function "public"."audit_n"() already exists and is not TableSync\'s');
    expect(err.message).toContain('trigger "audit_t" on "public"."customers" already exists and is not TableSync\'s (it calls audit_n())');

    const count = async () => Number((await t.src.sql(`SELECT count(*) AS n FROM audit_log`)).rows[0].n);
    const n0 = await count();
    await t.src.sql(`UPDATE customers SET name = 'Anna' WHERE code = 'a'`);
    expect(await count()).toBe(n0 + 1);

    const file = flowFile('audit_flow', { source: { connection: { url: t.src.url }, table: 'customers', notification: { channelName: 'audit' } }, target: { connection: { url: t.tgt.url }, table: 'customers' } });
    const dropped = await cli(['drop', file, '--json']);
    expect(dropped.stderr).toBe('');
    expect(dropped.code).toBe(0);
    const steps = (JSON.parse(dropped.stdout) as { steps: Array<{ kind: string; sql: string[]; summary: string }> }).steps;
    expect(steps.find((s) => s.kind === 'drop-trigger')).toMatchObject({ sql: [], summary: expect.stringContaining('trigger "audit_t" on "public"."customers" (not TableSync\'s)') });
    expect(await objects()).toEqual(expect.arrayContaining(['customers.audit_t', 'public.audit_n()']));
    await t.src.sql(`INSERT INTO customers VALUES ('b', 'Bob')`);
    expect(await count()).toBe(n0 + 2);
  });

  it('drop of the owning flow removes exactly its own objects, triggers before the function', async () => {
    const first = t.ctx({ name: 'orders_flow', source: { table: 'orders', notification: { channelName: 'shared' } }, target: { table: 'orders' } });
    const dry = await dropFlow(first, dropPartsFor(first.flow), { dryRun: true });
    expect(dry.steps.find((s) => s.kind === 'drop-trigger')?.sql).toEqual([
      'DROP TRIGGER IF EXISTS "shared_r" ON "public"."orders"',
      'DROP TRIGGER IF EXISTS "shared_t" ON "public"."orders"',
      'DROP FUNCTION IF EXISTS "public"."shared_n"()',
    ]);
    await dropFlow(first, dropPartsFor(first.flow), { allowDestructive: true });
    expect(await objects()).toEqual(['customers.audit_t', 'public.audit_n()']);
    await t.src.sql(`UPDATE orders SET total = 14 WHERE id = 1`);
  });

  it('a flow moved to another table keeps its channel: its old triggers go before the function is rewritten', async () => {
    await t.src.sql(`CREATE TABLE shelf_a (id int PRIMARY KEY, v text); CREATE TABLE shelf_b (sku text PRIMARY KEY, w text)`);
    await t.src.sql(`INSERT INTO shelf_a VALUES (1, 'a'); INSERT INTO shelf_b VALUES ('x', 'b')`);
    const onA = t.ctx({ name: 'mover', source: { table: 'shelf_a', notification: { channelName: 'mv' } }, target: { table: 'shelf' } });
    await applyFlow(onA);
    const wa = watch(onA);
    await wa.live();
    await wa.stop();
    const onB = t.ctx({ name: 'mover', source: { table: 'shelf_b', notification: { channelName: 'mv' } }, target: { table: 'shelf' } });
    await applyFlow(onB, { allowDestructive: true });
    const wb = watch(onB);
    await wb.live();
    try {
      expect((await objects()).filter((o) => o.includes('mv'))).toEqual(['public.mv_n()', 'shelf_b.mv_r', 'shelf_b.mv_t']);
      // the old table's writes work: no trigger of ours is left calling a function rewritten for shelf_b
      await t.src.sql(`UPDATE shelf_a SET v = 'a2' WHERE id = 1`);
      await t.src.sql(`INSERT INTO shelf_b VALUES ('y', 'c')`);
      await waitForSameRows('the moved flow syncs its new table', t.src.pool, `SELECT sku, w FROM shelf_b`, t.tgt.pool, `SELECT sku, w FROM shelf`);
    } finally {
      await wb.stop();
    }
  });
});
