import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, dropFlow } from '../../core/target';
import { withFlowLock } from '../../core/state';
import { createPool } from '../../core/connections/pool';
import { sourceAndTarget, type Pair } from './target-fixture';

// One writer per flow: while another session holds the flow's advisory lock, apply and drop fail
// with LOCKED and say who holds it; other flows are not affected.
describe('the flow lock', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget();
    await t.src.sql(`CREATE TABLE s (id int PRIMARY KEY)`);
    await t.src.sql(`INSERT INTO s VALUES (1)`);
  });
  afterAll(async () => { await t.close(); });

  it('reports who holds it', async () => {
    const other = createPool(t.tgt.url, { max: 1, applicationName: 'someone-else' });
    try {
      await withFlowLock(other, 'locked_flow', async () => {
        const ctx = t.ctx({ name: 'locked_flow', source: { table: 's' }, target: { table: 'lk' } });
        const err = await applyFlow(ctx).catch((e) => e);
        expect(err).toMatchObject({ code: 'LOCKED', message: expect.stringContaining('someone-else') });
        expect(err.detail.holder.backendStart).toBeTruthy();
        await expect(dropFlow(ctx, [])).rejects.toMatchObject({ code: 'LOCKED' });
        const free = t.ctx({ name: 'free_flow', source: { table: 's' }, target: { table: 'lk2' } });
        await expect(applyFlow(free)).resolves.toMatchObject({ rows: { insert: 1 } });
      });
      const ctx = t.ctx({ name: 'locked_flow', source: { table: 's' }, target: { table: 'lk' } });
      await expect(applyFlow(ctx)).resolves.toMatchObject({ rows: { insert: 1 } });
    } finally {
      await other.end();
    }
  });
});
