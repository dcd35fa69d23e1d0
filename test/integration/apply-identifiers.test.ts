import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, dropFlow, planFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';

// Every identifier is quoted: tables, columns, schemas, the flow's own name (state and tracking
// are keyed by it), renames and attachments survive `select`, spaces, quotes and non-ASCII; a
// key-only table works too.
describe('awkward names', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget();
    await t.src.sql(`CREATE SCHEMA "Sales Data"; CREATE TABLE "Sales Data"."My Table" ("select" int, "naïve""quote" text, "from" int, PRIMARY KEY ("select", "naïve""quote"))`);
    await t.src.sql(`INSERT INTO "Sales Data"."My Table" VALUES (1, 'a', 10), (2, 'b"''\\', 20)`);
    await t.src.sql(`CREATE TABLE keys_only (a int, b text, PRIMARY KEY (a, b)); INSERT INTO keys_only VALUES (1, 'x'), (2, 'y')`);
    await t.tgt.sql(`CREATE SCHEMA "Target ""Schema"""`);
  });
  afterAll(async () => { await t.close(); });

  it('syncs, re-syncs and drops', async () => {
    const flowName = 'flow "with" spaces; and ünïcode — and a name long enough to need fitting into sixty-three bytes';
    const ctx = () => t.ctx({
      name: flowName,
      source: { schema: 'Sales Data', table: 'My Table', filter: '"from" > 0' },
      target: { schema: 'Target "Schema"', table: 'naïve"quote', columns: { from: { name: 'to', type: 'bigint' } }, sqlAttachments: [{ name: 'idx', setupSql: `CREATE INDEX "weird idx" ON "Target ""Schema"""."naïve""quote" ("to")`, teardownSql: `DROP INDEX "Target ""Schema"""."weird idx"` }] },
    });
    const plan = await planFlow(ctx());
    expect(plan.blockers).toEqual([]);
    expect(plan.steps.find((s) => s.kind === 'create-table')!.sql[0]).toContain('CREATE TABLE "Target ""Schema"""."naïve""quote"');
    await applyFlow(ctx());
    expect((await t.tgt.sql(`SELECT * FROM "Target ""Schema"""."naïve""quote" ORDER BY 1`)).rows).toEqual([
      { select: '1', 'naïve"quote': 'a', to: '10' },
      { select: '2', 'naïve"quote': 'b"\'\\', to: '20' },
    ]);
    await t.src.sql(`UPDATE "Sales Data"."My Table" SET "from" = 0 WHERE "select" = 1`);
    expect((await applyFlow(ctx())).rows).toMatchObject({ delete: 1, unchanged: 1 });
    expect((await applyFlow(ctx())).rows).toMatchObject({ delete: 0, unchanged: 1 });
    const tracking = (await t.tgt.sql(`SELECT relname FROM pg_class WHERE relnamespace = 'tablesync'::regnamespace AND relkind = 'r' AND relname LIKE 'rows__%'`)).rows;
    expect(tracking).toHaveLength(1);
    expect(Buffer.byteLength(tracking[0]!.relname as string)).toBeLessThanOrEqual(63);
    const { steps } = await dropFlow(ctx(), [], { allowDestructive: true });
    expect(steps.map((s) => s.kind)).toEqual(['attachment-teardown', 'drop-table', 'state']);
    expect((await t.tgt.sql(`SELECT count(*) AS n FROM pg_class WHERE relname IN ('naïve"quote', 'weird idx')`)).rows[0].n).toBe('0');
  });

  it('a table that is all key', async () => {
    const ctx = () => t.ctx({ name: 'keys only', source: { table: 'keys_only' }, target: { table: 'keys_only' } });
    await applyFlow(ctx());
    await t.src.sql(`DELETE FROM keys_only WHERE a = 1; INSERT INTO keys_only VALUES (3, 'z')`);
    expect((await applyFlow(ctx())).rows).toMatchObject({ insert: 1, delete: 1, unchanged: 1 });
    expect((await t.tgt.sql(`SELECT a, b FROM keys_only ORDER BY a`)).rows).toEqual([{ a: '2', b: 'y' }, { a: '3', b: 'z' }]);
  });
});
