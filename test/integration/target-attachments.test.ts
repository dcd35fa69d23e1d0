import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, dropFlow, planFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';

// SQL attachments: setup when new, teardown-then-setup when changed, teardown when removed and when
// the flow is dropped; each step is user SQL (runs-user-sql). A failing setup rolls the apply back.
describe('SQL attachment lifecycle', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget();
    await t.src.sql(`CREATE TABLE s (id int PRIMARY KEY, body text)`);
    await t.src.sql(`INSERT INTO s VALUES (1, 'the fat rat'), (2, 'a cat')`);
    await t.tgt.sql(`CREATE TABLE log (what text)`);
  });
  afterAll(async () => { await t.close(); });
  const idx = async () => (await t.tgt.sql(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'docs' AND indexname LIKE 'fts%' ORDER BY 1`)).rows;
  const log = async () => (await t.tgt.sql(`SELECT what FROM log`)).rows.map((r) => r.what);
  const att = (setupSql: string, teardownSql?: string) => ({ name: 'fts', setupSql, ...(teardownSql ? { teardownSql } : {}) });
  const flow = (attachments: object[]) => t.ctx({ name: 'att', source: { table: 's' }, target: { table: 'docs', sqlAttachments: attachments as never } });

  it('sets up, changes, removes', async () => {
    const v1 = att(`CREATE INDEX fts_a ON docs USING gin (to_tsvector('english', body)); INSERT INTO log VALUES ('setup v1')`, `DROP INDEX IF EXISTS fts_a; INSERT INTO log VALUES ('teardown v1')`);
    const p1 = await planFlow(flow([v1]));
    const setup = p1.steps.find((s) => s.kind === 'attachment-setup')!;
    expect(setup).toMatchObject({ hazards: ['runs-user-sql'], sql: [v1.setupSql] });
    expect(p1.steps.map((s) => s.kind).indexOf('attachment-setup')).toBe(p1.steps.length - 1);
    await applyFlow(flow([v1]));
    expect((await idx()).map((i) => i.indexname)).toEqual(['fts_a']);
    expect((await planFlow(flow([v1]))).steps).toEqual([]);

    const v2 = att(`CREATE INDEX fts_b ON docs USING gin (to_tsvector('simple', body)); INSERT INTO log VALUES ('setup v2')`, `DROP INDEX IF EXISTS fts_b; INSERT INTO log VALUES ('teardown v2')`);
    const p2 = await planFlow(flow([v2]));
    expect(p2.steps.map((s) => s.kind)).toEqual(['attachment-teardown', 'attachment-setup']);
    await applyFlow(flow([v2]));
    expect((await idx()).map((i) => i.indexname)).toEqual(['fts_b']);
    expect(await log()).toEqual(['setup v1', 'teardown v1', 'setup v2']);

    const p3 = await planFlow(flow([]));
    expect(p3.steps.map((s) => [s.kind, s.summary])).toEqual([['attachment-teardown', 'tear down attachment "fts" (removed)']]);
    await applyFlow(flow([]));
    expect(await idx()).toEqual([]);
    expect(await log()).toEqual(['setup v1', 'teardown v1', 'setup v2', 'teardown v2']);
  });

  it('a failing setup rolls everything back', async () => {
    await t.src.sql(`INSERT INTO s VALUES (3, 'new row')`);
    await expect(applyFlow(flow([att(`CREATE INDEX fts_c ON docs (no_such_column)`)]))).rejects.toMatchObject({ message: expect.stringContaining('set up attachment "fts"') });
    expect((await t.tgt.sql(`SELECT count(*) AS n FROM docs`)).rows[0].n).toBe('2');
  });

  it('a recreated table gets its attachments torn down and set up again', async () => {
    const a = att(`CREATE INDEX fts_r ON docs (body); INSERT INTO log VALUES ('setup r')`, `DROP INDEX IF EXISTS fts_r; INSERT INTO log VALUES ('teardown r')`);
    await applyFlow(flow([a]));
    const rekeyed = t.ctx({ name: 'att', source: { table: 's' }, target: { table: 'docs', columns: { id: { type: 'bigint' } }, sqlAttachments: [a] } });
    const plan = await planFlow(rekeyed);
    expect(plan.steps.map((s) => s.kind)).toEqual(['attachment-teardown', 'recreate-table', 'state', 'state', 'attachment-setup']);
    await applyFlow(rekeyed, { allowDestructive: true });
    expect((await log()).slice(-3)).toEqual(['setup r', 'teardown r', 'setup r']);
    expect((await idx()).map((i) => i.indexname)).toEqual(['fts_r']);
    await applyFlow(t.ctx({ name: 'att', source: { table: 's' }, target: { table: 'docs', columns: { id: { type: 'bigint' } } } }));
  });

  it('drop tears attachments down', async () => {
    const v3 = t.ctx({ name: 'att', source: { table: 's' }, target: { table: 'docs', columns: { id: { type: 'bigint' } }, sqlAttachments: [att(`INSERT INTO log VALUES ('setup v3')`, `INSERT INTO log VALUES ('teardown v3')`)] } });
    await applyFlow(v3);
    const { steps } = await dropFlow(v3, [], { allowDestructive: true });
    expect(steps.map((s) => s.kind)).toEqual(['attachment-teardown', 'drop-table', 'state']);
    expect((await log()).slice(-2)).toEqual(['setup v3', 'teardown v3']);
  });
});
