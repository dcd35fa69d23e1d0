import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, dropFlow } from '../../core/target';
import { dropPartsFor } from '../../core/app/drop-parts';
import { sourceAndTarget, type Pair } from './target-fixture';
import { watch } from '../support/live';

// dropFlow removes the capture trigger and function from the source (the part dropPartsFor adds), also
// when the flow's channel changed since the trigger was created.
describe('drop removes the capture objects', () => {
  let t: Pair;
  const captureObjects = async () => (await t.src.sql(
    `SELECT tgname AS name FROM pg_trigger WHERE tgrelid = 'orders'::regclass AND NOT tgisinternal
     UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE '%tablesync_n' OR proname LIKE 'old_channel%' ORDER BY 1`,
  )).rows.map((r) => r.name as string);

  beforeAll(async () => {
    t = await sourceAndTarget('live_drop');
    await t.src.sql(`CREATE TABLE orders (id int PRIMARY KEY, total numeric)`);
  });
  afterAll(async () => { await t?.close(); });

  it('removes the trigger and function that watch created, under the channel recorded', async () => {
    const first = t.ctx({ name: 'live_drop', source: { table: 'orders', notification: { channelName: 'old_channel' } }, target: { table: 'orders' } });
    await applyFlow(first);
    const w = watch(first);
    await w.live();
    await w.stop();
    expect(await captureObjects()).toEqual(['old_channel_n', 'old_channel_r', 'old_channel_t']);

    const renamed = t.ctx({ name: 'live_drop', source: { table: 'orders', notification: {} }, target: { table: 'orders' } });
    const dry = await dropFlow(renamed, dropPartsFor(renamed.flow), { dryRun: true });
    const triggerStep = dry.steps.find((s) => s.kind === 'drop-trigger');
    expect(triggerStep?.sql).toEqual([
      'DROP TRIGGER IF EXISTS "old_channel_r" ON "public"."orders"',
      'DROP TRIGGER IF EXISTS "old_channel_t" ON "public"."orders"',
      'DROP FUNCTION IF EXISTS "public"."old_channel_n"()',
    ]);
    expect(await captureObjects()).toHaveLength(3);
    await dropFlow(renamed, dropPartsFor(renamed.flow), { allowDestructive: true });
    expect(await captureObjects()).toEqual([]);
  });
});
