import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pair } from './target-fixture';
import { watchedFlow, type WatchedFlow } from './live-fixture';
import { waitFor, waitForSameRows, type Watching } from '../support/live';

// Keys whose text depends on session settings (timestamptz, float8, interval, bytea) written by a
// session with other settings than ours: the notified key still matches the re-read row, so
// rows are applied, not mistaken for deleted ones.
describe('keys whose text form depends on session settings', () => {
  let t: Pair;
  let w: Watching;

  let f: WatchedFlow;
  beforeAll(async () => {
    f = await watchedFlow('live_ktypes', [
      `CREATE TABLE readings (at timestamptz, sensor float8, span interval, tag bytea, v numeric, PRIMARY KEY (at, sensor, span, tag))`,
    ], { name: 'live_ktypes', source: { table: 'readings', notification: {} }, target: { table: 'readings' } });
    ({ t, w } = f);
  });
  afterAll(async () => { await f?.close(); });

  it('applies inserts, updates and deletes written under another TimeZone, DateStyle and float/bytea output', async () => {
    const client = await t.src.pool.connect();
    try {
      await client.query(`SET TimeZone = 'Asia/Kolkata'; SET DateStyle = 'German, DMY'; SET extra_float_digits = 0; SET IntervalStyle = 'sql_standard'; SET bytea_output = 'escape'`);
      await client.query(`INSERT INTO readings VALUES ('2024-03-01 12:00:00.123456+00', 0.1::float8 + 0.2::float8, '1 day 02:03:04', '\\x00ff', 1), ('2024-03-02 00:00:00+00', 1e-300, '-3 months', '\\x41', 2), ('2024-03-03 00:00:00+00', 3, '0', '', 3)`);
      await client.query(`UPDATE readings SET v = 10 WHERE v = 1`);
      await client.query(`DELETE FROM readings WHERE v = 3`);
    } finally {
      client.release(true); // its session settings must not leak into the pool
    }
    const cols = `at::text, sensor::text, span::text, encode(tag, 'hex') AS tag, v`;
    const rows = await waitForSameRows('target = source', t.src.pool, `SELECT ${cols} FROM readings`, t.tgt.pool, `SELECT ${cols} FROM readings`);
    expect(rows).toHaveLength(2);
    // The row that was inserted and deleted may arrive as one coalesced delete; every other event is an apply.
    const events = await waitFor('events for all three keys', () => (new Set(w.events.map((e) => e.key.at)).size >= 3 ? w.events : undefined));
    if (process.env.LIVE_DEBUG) console.log(events);
    const byOutcome = (o: string) => events.filter((e) => e.outcome === o).map((e) => e.key.sensor);
    expect(byOutcome('failed')).toEqual([]);
    expect(byOutcome('applied')).toEqual(expect.arrayContaining(['0.30000000000000004', '1e-300']));
    // Never taken for gone (a later hint for a row already current is 'skipped', which is fine).
    expect(events.filter((e) => e.key.sensor !== '3').map((e) => e.outcome).filter((o) => o !== 'applied' && o !== 'skipped')).toEqual([]);
    // deleted when its insert was applied first, skipped when insert and delete came in one batch
    expect(['deleted', 'skipped']).toContain(events.filter((e) => e.key.sensor === '3').at(-1)?.outcome);
  });
});
