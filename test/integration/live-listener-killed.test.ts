import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { type Pair } from './target-fixture';
import { watchedFlow, type WatchedFlow } from './live-fixture';
import { waitFor, waitForSameRows, type Watching } from '../support/live';

// The listener's connection is killed (pg_terminate_backend) in the middle of a stream of 10,000
// changes: it says so, reconnects, catches up what it missed while nobody listened, and afterwards
// the target equals the filtered source exactly.
describe('listener connection killed mid-stream', () => {
  let t: Pair;
  let w: Watching;

  let f: WatchedFlow;
  beforeAll(async () => {
    f = await watchedFlow('live_kill', [
      `CREATE TABLE events (id int PRIMARY KEY, grp int NOT NULL, payload text, version int NOT NULL DEFAULT 0)`,
      `INSERT INTO events SELECT g, g % 10, 'p' || g, 0 FROM generate_series(1, 2000) g`,
    ], { name: 'live_kill', source: { table: 'events', filter: 'grp <> 3', notification: {} }, target: { table: 'events' } });
    ({ t, w } = f);
  });
  afterAll(async () => { await f?.close(); });

  /** One writer: `n` single-statement transactions, inserts, updates (also moving rows in and out of the filter) and deletes. */
  const writer = async (pool: pg.Pool, seed: number, n: number, progress: { done: number }) => {
    let x = seed;
    const rnd = (m: number) => { x = (x * 1103515245 + 12345) % 2147483648; return x % m; };
    for (let i = 0; i < n; i++) {
      const op = rnd(10);
      const id = 1 + rnd(4000);
      if (op < 4) await pool.query(`INSERT INTO events VALUES ($1, $2, 'w${seed}', 0) ON CONFLICT (id) DO UPDATE SET version = events.version + 1`, [id, rnd(10)]);
      else if (op < 8) await pool.query(`UPDATE events SET version = version + 1, grp = $2, payload = payload || '.' WHERE id = $1`, [id, rnd(10)]);
      else await pool.query(`DELETE FROM events WHERE id = $1`, [id]);
      progress.done++;
    }
  };

  it('reconnects, catches up, and the target equals the filtered source', async () => {
    const progress = { done: 0 };
    const writers = Promise.all([writer(t.src.pool, 1, 5000, progress), writer(t.src.pool, 2, 5000, progress)]);
    await waitFor('3,000 changes written', () => progress.done >= 3000, 30_000);
    const killed = await t.src.sql(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'tablesync live' AND datname = current_database()`);
    expect(killed.rows).toEqual([{ ok: 't' }]);
    await w.live(2);
    await writers;
    expect(progress.done).toBe(10_000);
    await waitForSameRows('target = filtered source', t.src.pool, `SELECT * FROM events WHERE grp <> 3`, t.tgt.pool, `SELECT * FROM events`, 40_000);

    const reconnect = w.statuses.find((s) => s.state === 'reconnecting');
    expect(reconnect?.reason).toMatch(/terminat|closed|error/i);
    expect(w.statuses.filter((s) => s.state === 'catching-up')).toHaveLength(2);
    expect(w.events.length).toBeGreaterThan(1000);
  });
});
