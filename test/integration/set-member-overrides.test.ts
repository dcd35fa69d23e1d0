import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { connectionResolver } from '../../core/flow/resolver';
import { applySet, openSet, parseSet, planSet, type SetContext } from '../../core/set';
import { createRentalSchema, rentalSet } from './set-fixture';

// A set member's overrides accept everything a flow's table does, vector indexes and SQL
// attachments included, and are checked as a flow's are: a bad vector column or a failing
// attachment names the table and the column (or the attachment), and writes nothing.
describe('sets: a member\'s vector indexes and SQL attachments', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  const opened: SetContext[] = [];
  const open = async (overrides: Record<string, unknown>) => {
    const ctx = await openSet(parseSet(rentalSet(src.url, tgt.url, { tables: ['language', 'film'], overrides })), connectionResolver());
    opened.push(ctx);
    return ctx;
  };
  beforeAll(async () => {
    src = await freshDatabase('ovr_s');
    tgt = await freshDatabase('ovr_t');
    await createRentalSchema(src);
  });
  afterAll(async () => {
    for (const c of opened) await c.close();
    await src?.drop();
    await tgt?.drop();
  });

  it('a vector index on a column that is not a vector (or not there) blocks the plan, naming table and column', async () => {
    const ctx = await open({ film: { vectorIndexes: [{ column: 'title' }, { column: 'nope' }] } });
    const plan = await planSet(ctx);
    expect(plan.blockers).toEqual(expect.arrayContaining([
      expect.objectContaining({ table: 'film', message: expect.stringMatching(/"title"/) }),
      expect.objectContaining({ table: 'film', message: expect.stringMatching(/the target has no column "nope"/) }),
    ]));
    expect(plan.blockers.every((b) => b.table === 'film')).toBe(true);
    await expect(applySet(ctx)).rejects.toThrow(/set "rental", table "film": .*"title"/);
    expect((await tgt.sql(`SELECT to_regclass('mirror.film') AS r`)).rows[0].r).toBeNull();
  });

  it('an attachment whose SQL fails names the table and the attachment; the set writes nothing; a good one is set up', async () => {
    const bad = await open({ film: { sqlAttachments: [{ name: 'title_idx', setupSql: 'CREATE INDEX film_title_idx ON mirror.film (no_such_column)' }] } });
    await expect(applySet(bad)).rejects.toThrow(/set "rental", table "film" \(indexes, attachments and state\): .*attachment "title_idx".*no_such_column/);
    expect((await tgt.sql(`SELECT to_regclass('mirror.language') AS r`)).rows[0].r).toBeNull();
    const good = await open({ film: { sqlAttachments: [{ name: 'title_idx', setupSql: 'CREATE INDEX film_title_idx ON mirror.film (title)', teardownSql: 'DROP INDEX mirror.film_title_idx' }] } });
    const plan = await planSet(good);
    expect(plan.members.find((m) => m.table === 'film')!.plan!.steps.map((s) => s.summary)).toContain('set up attachment "title_idx" (new)');
    const messages: string[] = [];
    const r = await applySet(good, { onProgress: (e) => { if (e.member?.message) messages.push(`${e.table}: ${e.member.message}`); } });
    // new tables take the flows' initial-load path (rows straight in by COPY, keys after), in the set's one transaction
    expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/^language: 1 stream, (binary|text) COPY$/), expect.stringMatching(/^film: 1 stream, (binary|text) COPY$/)]));
    expect(r.totals.insert).toBe(Number((await src.sql(`SELECT (SELECT count(*) FROM language) + (SELECT count(*) FROM film) AS n`)).rows[0].n));
    expect((await tgt.sql(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'mirror' AND indexname = 'film_title_idx'`)).rows[0]?.indexdef).toMatch(/\(title\)/);
  });
});
