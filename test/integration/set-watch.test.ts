import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { connectionResolver } from '../../core/flow/resolver';
import { openSet, parseSet, type SetContext } from '../../core/set';
import { watchSet } from '../../core/live';
import type { ChangeEvent, ListenerStatus } from '../../core/api/model';
import { createRentalSchema, MEMBER_TABLES, ORDER, rentalSet, tableDigest } from './set-fixture';

// One watcher for the whole set: one listener connection on the source (one LISTEN per member
// channel on it), the initial catch-up of every member in one transaction, and a source
// transaction that changes several tables applied as ONE target transaction.
const LISTENER_APP = 'tablesync set rental listener';

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('sets: one watcher', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  let ctx: SetContext;
  beforeAll(async () => {
    src = await freshDatabase('setws');
    tgt = await freshDatabase('setwt');
    await createRentalSchema(src);
    ctx = await openSet(parseSet(rentalSet(src.url, tgt.url)), connectionResolver());
  });
  afterAll(async () => {
    await ctx?.close();
    await src?.drop();
    await tgt?.drop();
  });

  it('watches every member over one listener connection and keeps a source transaction together', async () => {
    const events: ChangeEvent[] = [];
    const statuses: ListenerStatus[] = [];
    const handle = watchSet(ctx, { onEvent: (e) => events.push(e), onStatus: (s) => statuses.push(s) });
    try {
      await until('live', async () => statuses.some((s) => s.state === 'live'));
      // the first catch-up loaded every member
      for (const t of MEMBER_TABLES) expect(await tableDigest(tgt, `mirror.${t}`, ORDER[t]!), t).toEqual(await tableDigest(src, `public.${t}`, ORDER[t]!));
      const listeners = await src.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, [LISTENER_APP]);
      expect(listeners.rows[0].n).toBe('1');
      // one trigger per member, all on channels of this one listener
      // (partitions get their own TRUNCATE trigger too: only the members' own relations are counted)
      const triggers = await src.sql(`SELECT count(*) AS n FROM pg_trigger WHERE tgname LIKE 'rental.%' AND NOT tgisinternal AND tgrelid::regclass::text = ANY($1)`, [MEMBER_TABLES]);
      expect(Number(triggers.rows[0].n)).toBe(MEMBER_TABLES.length * 2);
      expect(handle.channel.split(', ')).toHaveLength(MEMBER_TABLES.length);

      await src.sql(`
        BEGIN;
        INSERT INTO language VALUES (7, 'lang 7', now());
        INSERT INTO film VALUES (2000, 'live film', 7, 'PG', NULL, now());
        INSERT INTO film_actor VALUES (1, 2000, now());
        UPDATE customer SET name = 'live rename', last_update = now() WHERE customer_id = 1;
        INSERT INTO payment VALUES (99999, DATE '2025-03-01', 1, 12.5);
        COMMIT;`);
      await until('the transaction in the target', async () => (await tgt.sql(`SELECT 1 FROM mirror.film_actor WHERE actor_id = 1 AND film_id = 2000`)).rowCount === 1);
      const xmins = await tgt.sql(`
        SELECT (SELECT xmin::text FROM mirror.language WHERE language_id = 7) AS l,
               (SELECT xmin::text FROM mirror.film WHERE film_id = 2000) AS f,
               (SELECT xmin::text FROM mirror.film_actor WHERE actor_id = 1 AND film_id = 2000) AS fa,
               (SELECT xmin::text FROM mirror.customer WHERE customer_id = 1) AS c,
               (SELECT xmin::text FROM mirror.payment WHERE payment_id = 99999) AS p`);
      const x = xmins.rows[0] as Record<string, string>;
      // one target transaction wrote all five rows
      expect(new Set(Object.values(x)).size).toBe(1);
      const applied = events.filter((e) => e.outcome === 'applied' && e.op !== 'catch-up').map((e) => e.flow);
      expect(new Set(applied)).toEqual(new Set(['rental.language', 'rental.film', 'rental.film_actor', 'rental.customer', 'rental.payment']));

      // deletes through the foreign-key graph (children and parents in one source transaction)
      await src.sql(`BEGIN; DELETE FROM film_actor WHERE film_id = 2000; DELETE FROM film WHERE film_id = 2000; DELETE FROM language WHERE language_id = 7; COMMIT;`);
      await until('the deletes', async () => (await tgt.sql(`SELECT 1 FROM mirror.language WHERE language_id = 7`)).rowCount === 0);
      for (const t of MEMBER_TABLES) expect(await tableDigest(tgt, `mirror.${t}`, ORDER[t]!), t).toEqual(await tableDigest(src, `public.${t}`, ORDER[t]!));
      expect((await src.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, [LISTENER_APP])).rows[0].n).toBe('1');
    } finally {
      await handle.stop();
    }
    await until('the listener gone', async () => (await src.sql(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, [LISTENER_APP])).rows[0].n === '0');
    expect(statuses.at(-1)!.state).toBe('stopped');
  });
});
