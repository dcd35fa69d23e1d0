import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow } from '../../core/target';
import { identifierByteLength } from '../../core/sql/ident';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitForSameRows, watch } from '../support/live';

// Channels are identifiers: a mixed-case one with a quote in it works end to end (LISTEN quotes it,
// pg_notify gets the exact text), and a long default channel is fitted so that the channel, the
// function and the triggers all stay within 63 bytes and PostgreSQL never truncates them.
describe('channel names: mixed case and the 63-byte limit', () => {
  let t: Pair;

  beforeAll(async () => {
    t = await sourceAndTarget('live_chan');
    await t.src.sql(`CREATE TABLE "Mixed Items" (id int PRIMARY KEY, v text)`);
  });
  afterAll(async () => { await t?.close(); });

  const run = async (flow: string, notification: { channelName?: string }, targetTable: string) => {
    const ctx = t.ctx({ name: flow, source: { table: 'Mixed Items', notification }, target: { table: targetTable } });
    await applyFlow(ctx);
    const w = watch(ctx);
    try {
      await w.live();
      await t.src.sql(`INSERT INTO "Mixed Items" SELECT coalesce(max(id), 0) + 1, $1 FROM "Mixed Items"`, [flow]);
      await waitForSameRows('target = source', t.src.pool, `SELECT * FROM "Mixed Items"`, t.tgt.pool, `SELECT * FROM "${targetTable}"`);
      const { rows } = await t.src.sql(`SELECT tgname FROM pg_trigger WHERE tgrelid = '"Mixed Items"'::regclass AND tgname LIKE $1 ORDER BY 1`, [`${w.handle.channel.replace(/[%_\\]/g, '\\$&')}_%`]);
      return { channel: w.handle.channel, triggers: rows.map((r) => r.tgname as string) };
    } finally {
      await w.stop();
    }
  };

  it('works with a mixed-case channel containing a quote', async () => {
    const r = await run('mixed', { channelName: 'Items "Live" Changes' }, 'mixed_target');
    expect(r.channel).toBe('Items "Live" Changes');
    expect(r.triggers).toEqual(['Items "Live" Changes_r', 'Items "Live" Changes_t']);
  });

  it('fits a long default channel so every name stays within 63 bytes', async () => {
    const flow = `a_flow_with_a_rather_long_name_${'x'.repeat(20)}`;
    const r = await run(flow, {}, 'long_target');
    expect(identifierByteLength(`${flow}__Mixed Items__tablesync`)).toBeGreaterThan(63);
    for (const name of [r.channel, ...r.triggers]) expect(identifierByteLength(name)).toBeLessThanOrEqual(63);
    expect(r.triggers).toEqual([`${r.channel}_r`, `${r.channel}_t`]);
    const fn = await t.src.sql(`SELECT proname FROM pg_proc WHERE proname = $1`, [`${r.channel}_n`]);
    expect(fn.rows).toHaveLength(1);
  });

  it('fits a given 63-byte channel with multibyte characters', async () => {
    const channel = `Ünïcode_${'é'.repeat(26)}x`; // 63 bytes
    expect(identifierByteLength(channel)).toBe(63);
    const r = await run('unicode', { channelName: channel }, 'unicode_target');
    expect(identifierByteLength(r.channel)).toBeLessThanOrEqual(61);
    expect(r.triggers).toHaveLength(2);
  });
});
