import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow } from '../../core/target';
import { TableSyncError } from '../../core/errors';
import { sourceAndTarget, type Pair } from './target-fixture';
import { watch, type Watching } from '../support/live';

// One writer per flow: a second watch of the same flow (any process, any machine) fails with
// LOCKED saying who holds it, and the first keeps running; once the first stops, a watch can start.
describe('one watcher per flow', () => {
  let t: Pair;
  let first: Watching;

  beforeAll(async () => {
    t = await sourceAndTarget('live_lock');
    await t.src.sql(`CREATE TABLE jobs (id int PRIMARY KEY, state text)`);
    await applyFlow(t.ctx({ name: 'live_lock', source: { table: 'jobs', notification: {} }, target: { table: 'jobs' } }));
    first = watch(t.ctx({ name: 'live_lock', source: { table: 'jobs', notification: {} }, target: { table: 'jobs' } }));
    await first.live();
  });
  afterAll(async () => {
    await first?.stop();
    await t?.close();
  });

  it('refuses a second watch with LOCKED and a failed status', async () => {
    const second = watch(t.ctx({ name: 'live_lock', source: { table: 'jobs', notification: {} }, target: { table: 'jobs' } }));
    const err = await second.handle.done.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(TableSyncError);
    expect((err as TableSyncError).code).toBe('LOCKED');
    expect((err as TableSyncError).message).toContain('live_lock');
    expect(second.statuses.at(-1)).toMatchObject({ state: 'failed' });
    expect(first.statuses.at(-1)?.state).toBe('live');
  });

  it('lets a watch start once the first stopped', async () => {
    await first.stop();
    const next = watch(t.ctx({ name: 'live_lock', source: { table: 'jobs', notification: {} }, target: { table: 'jobs' } }));
    try {
      await next.live();
    } finally {
      await next.stop();
    }
  });

  it('refuses a flow without source.notification', () => {
    expect(() => watch(t.ctx({ name: 'live_lock', source: { table: 'jobs' }, target: { table: 'jobs' } }))).toThrow(/notification/);
  });
});
