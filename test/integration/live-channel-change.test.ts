import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitForSameRows, watch } from '../support/live';

// When a flow's channel changes, the next watch installs the new trigger and removes the one it
// recorded for the old channel, so no stale trigger keeps notifying a channel nobody listens to.
describe('channel changed between watches', () => {
  let t: Pair;
  const objects = async () => (await t.src.sql(
    `SELECT tgname AS name FROM pg_trigger WHERE tgrelid = 'feed'::regclass AND NOT tgisinternal
     UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE 'chan_%' ORDER BY 1`,
  )).rows.map((r) => r.name as string);

  beforeAll(async () => {
    t = await sourceAndTarget('live_chchg');
    await t.src.sql(`CREATE TABLE feed (id int PRIMARY KEY, v text)`);
  });
  afterAll(async () => { await t?.close(); });

  it('replaces the old trigger and function with the new ones', async () => {
    const run = async (channelName: string, id: number) => {
      const ctx = t.ctx({ name: 'live_chchg', source: { table: 'feed', notification: { channelName } }, target: { table: 'feed' } });
      await applyFlow(ctx);
      const w = watch(ctx);
      try {
        await w.live();
        await t.src.sql(`INSERT INTO feed VALUES ($1, $2)`, [id, channelName]);
        await waitForSameRows('target = source', t.src.pool, `SELECT * FROM feed`, t.tgt.pool, `SELECT * FROM feed`);
      } finally {
        await w.stop();
      }
    };
    await run('chan_one', 1);
    expect(await objects()).toEqual(['chan_one_n', 'chan_one_r', 'chan_one_t']);
    await run('chan_two', 2);
    expect(await objects()).toEqual(['chan_two_n', 'chan_two_r', 'chan_two_t']);
  });
});
