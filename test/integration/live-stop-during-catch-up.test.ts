import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitFor, watch } from '../support/live';

// Stopping while the first catch-up is still loading a big table cancels it (it rolls back as a
// whole) instead of waiting for it, and releases everything.
describe('stop during a catch-up', () => {
  let t: Pair;

  beforeAll(async () => {
    t = await sourceAndTarget('live_stopcu');
    await t.src.sql(`CREATE TABLE big (id int PRIMARY KEY, body text)`);
    await t.src.sql(`INSERT INTO big SELECT g, repeat('x', 200) FROM generate_series(1, 400000) g`);
  });
  afterAll(async () => { await t?.close(); });

  it('cancels the catch-up, stops, and leaves the target as it was', async () => {
    const ctx = t.ctx({ name: 'live_stopcu', source: { table: 'big', notification: {} }, target: { table: 'big' } });
    const w = watch(ctx);
    await waitFor('catching up', () => w.statuses.some((s) => s.state === 'catching-up'));
    await w.stop();
    await w.handle.done;
    expect(w.statuses.map((s) => s.state)).toEqual(['connecting', 'catching-up', 'stopped']);
    const exists = await t.tgt.sql(`SELECT to_regclass('public.big') IS NOT NULL AS e`);
    if (exists.rows[0].e === 't') expect((await t.tgt.sql(`SELECT count(*) AS n FROM big`)).rows[0].n).toBe('0');
    const { rows } = await t.src.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tablesync live'`);
    expect(rows[0].n).toBe('0');
    const r = await applyFlow(ctx); // the lock is free
    expect(r.rows.insert).toBe(400000);
  });
});
