import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow } from '../../core/target';
import { flowCaptureNames } from '../../core/live/drop-parts';
import { sourceAndTarget, type Pair } from './target-fixture';
import { waitFor, waitForSameRows, watch } from '../support/live';
import { freshDatabase, type TestDatabase } from '../support/db';
import { connectionResolver } from '../../core/flow/resolver';
import { openSet, parseSet, type SetContext } from '../../core/set';
import { watchSet, type WatchHandle } from '../../core/live';
import type { ChangeEvent, ListenerStatus } from '../../core/api/model';
import { createRentalSchema, ORDER, rentalSet, tableDigest } from './set-fixture';

// Trigger capture: someone disables or drops the capture trigger (ALTER TABLE … DISABLE TRIGGER
// ALL around a bulk load, a migration that recreates the table's triggers) while the watch is
// live. No notification comes, so without a check the target would drift until the next restart.
// The watch re-reads its capture objects while live: it restores them and rescans, so the changes
// made meanwhile arrive, and says so (a catch-up with the reason).
describe('trigger capture: the capture trigger disabled or dropped while live', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('ctam');
    await t.src.sql(`CREATE TABLE items (id int PRIMARY KEY, v text)`);
    await t.src.sql(`INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 30) g`);
  });
  afterAll(async () => { await t?.close(); });

  it('restores the capture and rescans; the changes made meanwhile reach the target', async () => {
    const ctx = t.ctx({ name: 'ctam', source: { table: 'items', notification: {} }, target: { table: 'items_copy' } });
    const names = flowCaptureNames(ctx.flow);
    const same = (what: string) => waitForSameRows(what, t.src.pool, `SELECT id, v FROM items`, t.tgt.pool, `SELECT id, v FROM items_copy`, 30_000);
    await applyFlow(ctx);
    const w = watch(ctx, { captureCheckMs: 100 });
    try {
      await w.live();
      await t.src.sql(`ALTER TABLE items DISABLE TRIGGER ALL`);
      await t.src.sql(`UPDATE items SET v = 'while disabled' WHERE id <= 5`);
      await t.src.sql(`DELETE FROM items WHERE id = 6`);
      await same('after the trigger was disabled');
      await t.src.sql(`DROP TRIGGER ${JSON.stringify(names.rowTrigger)} ON items`);
      await t.src.sql(`INSERT INTO items VALUES (100, 'while dropped')`);
      await same('after the trigger was dropped');
      const rescans = () => w.events.filter((e) => e.op === 'rescan' && /capture trigger or function of public\.items was disabled, dropped or changed while live/.test(e.catchUp?.reason ?? '')).length;
      await waitFor('two rescans, with their reason', () => rescans() >= 2);
      // restored: a change is notified again (its own event), without another rescan
      const before = rescans();
      await t.src.sql(`UPDATE items SET v = 'notified' WHERE id = 7`);
      await same('a notified change');
      await waitFor('its event', () => w.events.some((e) => e.op === 'update' && e.key['id'] === '7'));
      expect(rescans()).toBe(before);
    } finally {
      await w.stop();
    }
  });
});

describe('set watch: a member\'s capture trigger disabled while live', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  let ctx: SetContext;
  let handle: WatchHandle | undefined;
  const events: ChangeEvent[] = [];
  beforeAll(async () => {
    src = await freshDatabase('ctams');
    tgt = await freshDatabase('ctamt');
    await createRentalSchema(src);
    ctx = await openSet(parseSet(rentalSet(src.url, tgt.url)), connectionResolver());
  });
  afterAll(async () => {
    await handle?.stop();
    await ctx?.close();
    await src?.drop();
    await tgt?.drop();
  });

  it('restores it and rescans the set', async () => {
    const statuses: ListenerStatus[] = [];
    handle = watchSet(ctx, { onStatus: (s) => statuses.push(s), onEvent: (e) => events.push(e), captureCheckMs: 100 });
    await waitFor('live', () => statuses.some((s) => s.state === 'live'));
    const same = () => waitFor('actor in the target = the source', async () =>
      JSON.stringify(await tableDigest(tgt, 'mirror.actor', ORDER.actor!)) === JSON.stringify(await tableDigest(src, 'public.actor', ORDER.actor!)));
    await same();
    await src.sql(`ALTER TABLE actor DISABLE TRIGGER USER`);
    // the set's flows have an ordinal, which this UPDATE leaves alone: the rescan compares values
    await src.sql(`UPDATE actor SET name = 'DISABLED' WHERE actor_id <= 3`);
    await same();
    await waitFor('the rescan, with its reason', () => events.some((e) => /capture trigger or function of public\.actor was disabled, dropped or changed while live/.test(e.catchUp?.reason ?? '')));
    expect((await src.sql(`SELECT count(*) AS n FROM pg_trigger WHERE tgrelid = 'actor'::regclass AND NOT tgisinternal AND tgenabled = 'D'`)).rows[0].n).toBe('0');
  });
});

// With an ordinal column, a rescan finds the rows whose ordinal moved. A rescan that stands in for
// changed keys the watch does not know (more than maxPendingKeys waiting, a capture that was off)
// compares the rows' values too: an UPDATE that leaves the ordinal alone still arrives.
describe('trigger capture, ordinal flow: a rescan for keys it does not know compares values', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('ctamo');
    await t.src.sql(`CREATE TABLE prices (id int PRIMARY KEY, price numeric NOT NULL, updated_at timestamptz NOT NULL DEFAULT '2024-01-01')`);
    await t.src.sql(`INSERT INTO prices (id, price) SELECT g, g FROM generate_series(1, 300) g`);
  });
  afterAll(async () => { await t?.close(); });

  it('more keys than the watch holds, and a capture that was off', async () => {
    const ctx = t.ctx({ name: 'ctamo', source: { table: 'prices', ordinalColumn: 'updated_at', notification: {} }, target: { table: 'prices_copy' } });
    const same = (what: string) => waitForSameRows(what, t.src.pool, `SELECT id, price FROM prices`, t.tgt.pool, `SELECT id, price FROM prices_copy`, 30_000);
    await applyFlow(ctx);
    const w = watch(ctx, { maxPendingKeys: 50, captureCheckMs: 100 });
    try {
      await w.live();
      await t.src.sql(`UPDATE prices SET price = price * 1.1`);
      await same('after more keys than the watch holds');
      await t.src.sql(`ALTER TABLE prices DISABLE TRIGGER USER`);
      await t.src.sql(`UPDATE prices SET price = price + 1 WHERE id <= 10`);
      await same('after the capture was off');
    } finally {
      await w.stop();
    }
  });
});

// A partition attached while live has no TRUNCATE trigger of ours yet: the capture check must not
// take that for a capture that was off (a rescan comparing every value) but see the partition change.
describe('trigger capture: a partition attached while live is a partition change, not a capture that was off', () => {
  let t: Pair;
  beforeAll(async () => {
    t = await sourceAndTarget('ctamp');
    await t.src.sql(`CREATE TABLE ev (id int, region text, v int, PRIMARY KEY (id, region)) PARTITION BY LIST (region)`);
    await t.src.sql(`CREATE TABLE ev_eu PARTITION OF ev FOR VALUES IN ('eu')`);
    await t.src.sql(`INSERT INTO ev SELECT g, 'eu', g FROM generate_series(1, 20) g`);
    await t.src.sql(`CREATE TABLE ev_us (LIKE ev)`);
    await t.src.sql(`INSERT INTO ev_us SELECT g, 'us', g FROM generate_series(100, 109) g`);
  });
  afterAll(async () => { await t?.close(); });

  it('the rescan gives the partition change as its reason', async () => {
    const ctx = t.ctx({ name: 'ctamp', source: { table: 'ev', notification: {} }, target: { table: 'ev_copy' } });
    await applyFlow(ctx);
    // the capture check comes first and often; the partition check alone would come much later
    const w = watch(ctx, { captureCheckMs: 100, partitionCheckMs: 600_000 });
    try {
      await w.live();
      await t.src.sql(`ALTER TABLE ev ATTACH PARTITION ev_us FOR VALUES IN ('us')`);
      await waitForSameRows('after the attach', t.src.pool, `SELECT id, region, v FROM ev`, t.tgt.pool, `SELECT id, region, v FROM ev_copy`, 30_000);
      const reasons = () => w.events.filter((e) => e.op === 'rescan').map((e) => e.catchUp?.reason ?? '');
      await waitFor('the rescan event', () => reasons().length > 0);
      expect(reasons()).toEqual([expect.stringMatching(/partitions of the source table changed/)]);
    } finally {
      await w.stop();
    }
  });
});
