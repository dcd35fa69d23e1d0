import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, dropFlow } from '../../core/target';
import { dropPartsFor } from '../../core/app/drop-parts';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitForSameRows, watch, waitFor, type Watching } from '../support/live';

// A partitioned source (issue 9 A): TRUNCATE of one partition fires only that partition's own
// statement triggers, so each partition carries the flow's TRUNCATE trigger, also partitions
// attached or created after the watch started (found by the watch's partition check, which also
// rescans: an attached partition's rows appear, a detached one's vanish, without any row trigger).
describe('watch a partitioned source: partition TRUNCATE, ATTACH and DETACH', () => {
  let t: Pair;
  let w: Watching;
  const same = (what: string) => waitForSameRows(what, t.src.pool, `SELECT id, region, v FROM events`, t.tgt.pool, `SELECT id, region, v FROM events`);
  const truncateTriggers = async () => (await t.src.sql(
    `SELECT c.relname AS t FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid WHERE g.tgname = 'ev_r' ORDER BY 1`,
  )).rows.map((r) => r.t as string);

  beforeAll(async () => {
    t = await sourceAndTarget('live_part');
    await t.src.sql(`CREATE TABLE events (id int, region text, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region)`);
    await t.src.sql(`CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu')`);
    // a sub-partitioned partition: its leaves need the trigger too
    await t.src.sql(`CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us', 'ca') PARTITION BY LIST (region)`);
    await t.src.sql(`CREATE TABLE events_us_us PARTITION OF events_us FOR VALUES IN ('us')`);
    await t.src.sql(`CREATE TABLE events_us_ca PARTITION OF events_us FOR VALUES IN ('ca')`);
    await t.src.sql(`INSERT INTO events SELECT g, (ARRAY['eu', 'us', 'ca'])[1 + g % 3], 'v' || g FROM generate_series(1, 90) g`);
    const ctx = t.ctx({ name: 'live_part', source: { table: 'events', notification: { channelName: 'ev' } }, target: { table: 'events' } });
    await applyFlow(ctx);
    w = watch(ctx, { partitionCheckMs: 100 });
    await w.live();
  });
  afterAll(async () => {
    await w?.stop();
    await t?.close();
  });

  it('puts the TRUNCATE trigger on the table and on every partition', async () => {
    expect(await truncateTriggers()).toEqual(['events', 'events_eu', 'events_us', 'events_us_ca', 'events_us_us']);
  });

  it('a TRUNCATE of one partition (or a sub-partition) empties those rows from the target', async () => {
    await t.src.sql(`TRUNCATE events_eu`);
    await same('eu rows gone');
    expect(Number((await t.tgt.sql(`SELECT count(*) AS n FROM events`)).rows[0].n)).toBe(60);
    await waitFor('a truncate event', () => w.events.find((e) => e.op === 'truncate'));
    await t.src.sql(`TRUNCATE events_us_ca`);
    await same('ca rows gone');
    expect(Number((await t.tgt.sql(`SELECT count(*) AS n FROM events`)).rows[0].n)).toBe(30);
  });

  it('a partition attached while watching: its rows arrive, and its TRUNCATE is captured', async () => {
    await t.src.sql(`CREATE TABLE events_asia (id int, region text, v text, PRIMARY KEY (id, region))`);
    await t.src.sql(`INSERT INTO events_asia SELECT g, 'asia', 'a' || g FROM generate_series(1000, 1019) g`);
    await t.src.sql(`ALTER TABLE events ATTACH PARTITION events_asia FOR VALUES IN ('asia')`);
    await same('attached rows arrive');
    await waitFor('the trigger on the attached partition', async () => (await truncateTriggers()).includes('events_asia'));
    await t.src.sql(`UPDATE events SET v = 'changed' WHERE id = 1000`); // row triggers are cloned by PostgreSQL
    await same('an update in the attached partition');
    await t.src.sql(`TRUNCATE events_asia`);
    await same('attached partition truncated');
  });

  it('a partition created while watching, and one detached', async () => {
    await t.src.sql(`CREATE TABLE events_af PARTITION OF events FOR VALUES IN ('af')`);
    await waitFor('the trigger on the new partition', async () => (await truncateTriggers()).includes('events_af'));
    await t.src.sql(`INSERT INTO events SELECT g, 'af', 'f' || g FROM generate_series(2000, 2009) g`);
    await same('rows in the new partition');
    await t.src.sql(`TRUNCATE events_af`);
    await same('new partition truncated');
    await t.src.sql(`ALTER TABLE events DETACH PARTITION events_us`);
    await same('detached rows gone');
    expect(Number((await t.tgt.sql(`SELECT count(*) AS n FROM events`)).rows[0].n)).toBe(0);
  });

  it('drop removes the TRUNCATE triggers from every partition, also the detached one', async () => {
    await w.stop();
    const ctx = t.ctx({ name: 'live_part', source: { table: 'events', notification: { channelName: 'ev' } }, target: { table: 'events' } });
    await dropFlow(ctx, dropPartsFor(ctx.flow), { allowDestructive: true });
    expect(await truncateTriggers()).toEqual([]);
    expect((await t.src.sql(`SELECT count(*) AS n FROM pg_trigger WHERE tgname LIKE 'ev\\_%' UNION ALL SELECT count(*) FROM pg_proc WHERE proname = 'ev_n'`)).rows).toEqual([{ n: '0' }, { n: '0' }]);
  });
});
