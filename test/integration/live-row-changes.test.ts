import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFlow, type FlowContext } from '../../core/target';
import { type Pair } from './target-fixture';
import { watchedFlow, type WatchedFlow } from './live-fixture';
import { waitFor, type Watching } from '../support/live';

// Inserts, updates and deletes in the source reach the target while watching, each reported as a
// change event with its outcome and a latency.
describe('watch applies inserts, updates and deletes', () => {
  let t: Pair;
  let ctx: FlowContext;
  let w: Watching;
  const target = async () => (await t.tgt.sql(`SELECT id, name, price FROM items ORDER BY id`)).rows;

  let f: WatchedFlow;
  beforeAll(async () => {
    f = await watchedFlow('live_rows', [
      `CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(12,2))`,
      `INSERT INTO items VALUES (1, 'one', 1.00), (2, 'two', 2.00)`,
    ], { name: 'live_rows', source: { table: 'items', notification: {} }, target: { table: 'items' } });
    ({ t, w, ctx } = f);
  });
  afterAll(async () => { await f?.close(); });

  it('reports the states connecting → catching-up → live', () => {
    expect(w.statuses.map((s) => s.state)).toEqual(['connecting', 'catching-up', 'live']);
    expect(w.statuses[2]).toMatchObject({ flow: 'live_rows', channel: 'live_rows__items__tablesync', caughtUp: 0 });
  });

  it('applies an insert', async () => {
    await t.src.sql(`INSERT INTO items VALUES (9007199254740993, 'big', 3.50)`);
    await waitFor('the insert in the target', async () => (await target()).length === 3);
    expect((await target())[2]).toEqual({ id: '9007199254740993', name: 'big', price: '3.50' });
    const e = await waitFor('its event', () => w.events.find((x) => x.key.id === '9007199254740993'));
    expect(e).toMatchObject({ flow: 'live_rows', op: 'insert', outcome: 'applied', key: { id: '9007199254740993' } });
    expect(typeof e.latencyMs).toBe('number');
    expect(e.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('applies an update', async () => {
    await t.src.sql(`UPDATE items SET name = 'uno', price = 1.25 WHERE id = 1`);
    await waitFor('the update in the target', async () => (await target())[0]?.name === 'uno');
    expect((await target())[0]).toEqual({ id: '1', name: 'uno', price: '1.25' });
    expect(await waitFor('its event', () => w.events.find((e) => e.key.id === '1' && e.op === 'update'))).toMatchObject({ outcome: 'applied' });
  });

  it('applies a delete', async () => {
    await t.src.sql(`DELETE FROM items WHERE id = 2`);
    await waitFor('the delete in the target', async () => (await target()).length === 2);
    expect((await target()).map((r) => r.id)).toEqual(['1', '9007199254740993']);
    expect(await waitFor('its event', () => w.events.find((e) => e.key.id === '2'))).toMatchObject({ op: 'delete', outcome: 'deleted' });
  });

  it('applies a multi-row transaction, last state per key winning', async () => {
    const client = await t.src.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO items SELECT g, 'n' || g, g FROM generate_series(100, 199) g`);
      await client.query(`UPDATE items SET name = 'final' WHERE id BETWEEN 100 AND 149`);
      await client.query(`DELETE FROM items WHERE id BETWEEN 150 AND 159`);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await waitFor('the transaction in the target', async () => (await target()).length === 92);
    const rows = await target();
    expect(rows.filter((r) => r.name === 'final')).toHaveLength(50);
    // How the 160 notifications are cut into batches depends on timing (one batch when idle, several
    // under load), so wait for the state, not for a number of events: every key reported, and the
    // deleted keys reported with their last operation.
    const inTx = () => w.events.filter((e) => Number(e.key.id) >= 100 && Number(e.key.id) < 200);
    const keysOf = (events: typeof w.events) => new Set(events.map((e) => Number(e.key.id)));
    await waitFor('an event for every key of the transaction, a delete for each deleted key', () => {
      const events = inTx();
      const deletes = keysOf(events.filter((e) => e.op === 'delete'));
      return keysOf(events).size === 100 && [...Array(10).keys()].every((i) => deletes.has(150 + i));
    });
    const events = inTx();
    // every notification is re-read after the commit, so a key inserted and deleted within the
    // transaction is never written: all its events are skipped, whatever the batching
    const gone = events.filter((e) => Number(e.key.id) >= 150 && Number(e.key.id) < 160);
    expect(gone.every((e) => e.outcome === 'skipped')).toBe(true);
    // each surviving key was applied once (later batches for it find nothing new: skipped)
    const kept = events.filter((e) => Number(e.key.id) < 150 || Number(e.key.id) >= 160);
    expect(kept.every((e) => e.outcome === 'applied' || e.outcome === 'skipped')).toBe(true);
    expect(keysOf(kept.filter((e) => e.outcome === 'applied')).size).toBe(90);
  });

  it('reports an update that changes nothing the flow copies as skipped', async () => {
    const before = w.events.length;
    await t.src.sql(`UPDATE items SET price = price WHERE id = 1`);
    const e = await waitFor('its event', () => w.events.slice(before).find((x) => x.key.id === '1'));
    expect(e).toMatchObject({ key: { id: '1' }, outcome: 'skipped' });
  });

  it('reports a row inserted and deleted within one transaction as skipped', async () => {
    await t.src.sql(`BEGIN; INSERT INTO items VALUES (5, 'brief', 1); DELETE FROM items WHERE id = 5; COMMIT`);
    const e = await waitFor('its event', () => w.events.find((x) => x.key.id === '5'));
    expect(e).toMatchObject({ op: 'delete', outcome: 'skipped' });
    expect((await target()).some((r) => r.id === '5')).toBe(false);
  });

  it('stops cleanly: UNLISTEN, the lock released, the status stopped', async () => {
    await w.stop();
    await w.handle.done;
    expect(w.statuses.at(-1)?.state).toBe('stopped');
    const { rows } = await t.src.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tablesync live'`);
    expect(rows[0].n).toBe('0');
    const r = await applyFlow(ctx); // would fail with LOCKED if watch still held the flow
    expect(r.rows.insert).toBe(0);
  });
});
