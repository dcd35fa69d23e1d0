import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, planFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';

// A vector column on a target server without pgvector (this project's servers have none): a clear
// PGVECTOR_MISSING that says how to get it, from plan and apply, and nothing written.
describe('no pgvector on the target', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget();
    await t.src.sql(`CREATE TABLE e (id int PRIMARY KEY, emb real[])`);
    await t.src.sql(`INSERT INTO e VALUES (1, '{1,2,3}')`);
  });
  afterAll(async () => { await t.close(); });

  it('says so and writes nothing', async () => {
    const ctx = t.ctx({ name: 'nov', source: { table: 'e' }, target: { table: 'e', columns: { emb: { type: 'vector(3)' } }, vectorIndexes: [{ column: 'emb' }] } });
    await expect(planFlow(ctx)).rejects.toMatchObject({ code: 'PGVECTOR_MISSING', message: expect.stringMatching(/no pgvector extension.*column "emb".*Install pgvector/) });
    await expect(applyFlow(ctx)).rejects.toMatchObject({ code: 'PGVECTOR_MISSING' });
    const left = (await t.tgt.sql(`SELECT to_regclass('public.e') AS t, to_regnamespace('tablesync') AS s`)).rows[0];
    expect(left).toEqual({ t: null, s: null });
  });
});
