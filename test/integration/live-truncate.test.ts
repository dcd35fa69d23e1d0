import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow } from '../../core/target';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitForSameRows, watch, waitFor, type Watching } from '../support/live';

// TRUNCATE fires no row triggers: the statement trigger asks for a rescan, which empties the target
// of the flow's rows (and keeps rows the flow does not own).
describe('watch rescans after TRUNCATE', () => {
  let t: Pair;
  let w: Watching;

  beforeAll(async () => {
    t = await sourceAndTarget('live_trunc');
    await t.src.sql(`CREATE TABLE logs (id int PRIMARY KEY, msg text, at timestamptz NOT NULL DEFAULT now())`);
    await t.src.sql(`INSERT INTO logs (id, msg) SELECT g, 'm' || g FROM generate_series(1, 300) g`);
    const ctx = t.ctx({ name: 'live_trunc', source: { table: 'logs', ordinalColumn: 'at', notification: {} }, target: { table: 'logs' } });
    await applyFlow(ctx);
    await t.tgt.sql(`INSERT INTO logs VALUES (9999, 'not ours', now())`);
    w = watch(ctx);
    await w.live();
  });
  afterAll(async () => {
    await w?.stop();
    await t?.close();
  });

  it('empties the flow\'s rows and then follows new ones', async () => {
    await t.src.sql(`TRUNCATE logs`);
    await waitFor('the target emptied of the flow\'s rows', async () => (await t.tgt.sql(`SELECT count(*) AS n FROM logs`)).rows[0].n === '1');
    expect((await t.tgt.sql(`SELECT id FROM logs`)).rows).toEqual([{ id: '9999' }]);
    const e = await waitFor('a truncate event', () => w.events.find((x) => x.op === 'truncate'));
    expect(e).toMatchObject({ op: 'truncate', key: {}, outcome: 'applied' });
    await t.src.sql(`INSERT INTO logs (id, msg) VALUES (1, 'again')`);
    await waitForSameRows('target = source', t.src.pool, `SELECT id, msg FROM logs`, t.tgt.pool, `SELECT id, msg FROM logs WHERE id <> 9999`);
  });
});
