import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitFor, waitForSameRows, watch, type Watching } from '../support/live';

// A listener connection that stays open but stops answering (its server process frozen with
// SIGSTOP, as a dead peer or a network partition would look) is noticed by the heartbeat: the
// watch reconnects on a new connection, catches up, and the target converges.
describe('heartbeat notices a listener connection that stopped answering', () => {
  let t: Pair;
  let w: Watching;
  let frozen: number | undefined;

  beforeAll(async () => {
    t = await sourceAndTarget('live_beat');
    await t.src.sql(`CREATE TABLE pings (id int PRIMARY KEY, n int NOT NULL)`);
    await t.src.sql(`INSERT INTO pings SELECT g, 0 FROM generate_series(1, 50) g`);
    const ctx = t.ctx({ name: 'live_beat', source: { table: 'pings', notification: {} }, target: { table: 'pings' } });
    await applyFlow(ctx);
    w = watch(ctx, { listener: { heartbeatMs: 200, heartbeatTimeoutMs: 500 } });
    await w.live();
  });
  afterAll(async () => {
    if (frozen) {
      try { process.kill(frozen, 'SIGCONT'); } catch { /* gone */ }
    }
    await w?.stop();
    await t?.close();
  });

  it('reconnects after a heartbeat timeout and the target equals the source', async () => {
    const { rows } = await t.src.sql(`SELECT pid FROM pg_stat_activity WHERE application_name = 'tablesync live' AND datname = current_database()`);
    expect(rows).toHaveLength(1);
    frozen = Number(rows[0].pid);
    process.kill(frozen, 'SIGSTOP');
    await t.src.sql(`UPDATE pings SET n = n + 1 WHERE id <= 25`);
    const lost = await waitFor('a reconnect', () => w.statuses.find((s) => s.state === 'reconnecting'), 20_000);
    expect(lost.reason).toMatch(/heartbeat/);
    await w.live(2);
    process.kill(frozen, 'SIGCONT');
    await t.src.sql(`SELECT pg_terminate_backend($1)`, [frozen]);
    frozen = undefined;
    await t.src.sql(`UPDATE pings SET n = n + 10 WHERE id > 25`);
    await waitForSameRows('target = source', t.src.pool, `SELECT * FROM pings`, t.tgt.pool, `SELECT * FROM pings`);
  });
});
