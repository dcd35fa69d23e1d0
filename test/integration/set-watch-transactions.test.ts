import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { waitFor } from '../support/live';
import { connectionResolver } from '../../core/flow/resolver';
import { openSet, parseSet, type SetContext } from '../../core/set';
import { watchSet } from '../../core/live';
import type { ListenerStatus } from '../../core/api/model';
import { createRentalSchema, MEMBER_TABLES, ORDER, rentalSet, tableDigest } from './set-fixture';

// Issue 10: a source transaction becomes ONE target transaction, however large. The watcher
// batches by the source transaction id the capture function puts in every notification, not by
// arrival gaps or a key count: 12,010 rows over 5 tables in one source transaction land with one
// xmin, and the members' deferred foreign keys hold. Above the watcher's memory bound the same
// transaction arrives through the set's one-transaction catch-up instead, and so does a source
// transaction with a TRUNCATE in it (with the other changes of that transaction).

// One source transaction: 10 languages, 3,000 films (each referencing one of them, every third a
// sequel of the one before), 3,000 actors, 3,000 film_actor rows joining them, 3,000 payments.
const BIG_TX = (base: number) => `
  BEGIN;
  INSERT INTO language SELECT ${base} + g, 'lang ' || g FROM generate_series(1, 10) g;
  INSERT INTO film SELECT ${base} + g, 'film ' || g, ${base} + 1 + g % 10, 'PG', CASE WHEN g % 3 = 0 THEN ${base} + g - 1 END FROM generate_series(1, 3000) g;
  INSERT INTO actor SELECT ${base} + g, 'actor ' || g FROM generate_series(1, 3000) g;
  INSERT INTO film_actor SELECT ${base} + g, ${base} + g FROM generate_series(1, 3000) g;
  INSERT INTO payment SELECT ${base} + g, DATE '2025-02-01' + (g % 300), 1 + g % 60, g * 0.5 FROM generate_series(1, 3000) g;
  COMMIT;`;
const CHANGED = (base: number) => `
  SELECT xmin::text AS x FROM mirror.language WHERE language_id > ${base}
  UNION ALL SELECT xmin::text FROM mirror.film WHERE film_id > ${base}
  UNION ALL SELECT xmin::text FROM mirror.actor WHERE actor_id > ${base}
  UNION ALL SELECT xmin::text FROM mirror.film_actor WHERE film_id > ${base}
  UNION ALL SELECT xmin::text FROM mirror.payment WHERE payment_id > ${base}`;

describe('sets: a source transaction is one target transaction', () => {
  let src: TestDatabase;
  let tgt: TestDatabase;
  let ctx: SetContext;
  beforeAll(async () => {
    src = await freshDatabase('settxs');
    tgt = await freshDatabase('settxt');
    await createRentalSchema(src);
    ctx = await openSet(parseSet(rentalSet(src.url, tgt.url)), connectionResolver());
  });
  afterAll(async () => {
    await ctx?.close();
    await src?.drop();
    await tgt?.drop();
  });

  const members = async () => {
    for (const t of MEMBER_TABLES) expect(await tableDigest(tgt, `mirror.${t}`, ORDER[t]!), t).toEqual(await tableDigest(src, `public.${t}`, ORDER[t]!));
  };
  const orphans = async () => (await tgt.sql(`
    SELECT (SELECT count(*) FROM mirror.film f WHERE NOT EXISTS (SELECT 1 FROM mirror.language l WHERE l.language_id = f.language_id))
         + (SELECT count(*) FROM mirror.film f WHERE f.sequel_of IS NOT NULL AND NOT EXISTS (SELECT 1 FROM mirror.film s WHERE s.film_id = f.sequel_of))
         + (SELECT count(*) FROM mirror.film_actor fa WHERE NOT EXISTS (SELECT 1 FROM mirror.film f WHERE f.film_id = fa.film_id)
                                                         OR NOT EXISTS (SELECT 1 FROM mirror.actor a WHERE a.actor_id = fa.actor_id))
         + (SELECT count(*) FROM mirror.payment p WHERE NOT EXISTS (SELECT 1 FROM mirror.customer c WHERE c.customer_id = p.customer_id)) AS n`)).rows[0].n as string;

  it('12,010 rows over 5 tables in one source transaction arrive in one target transaction, foreign keys valid', async () => {
    const statuses: ListenerStatus[] = [];
    const handle = watchSet(ctx, { onStatus: (s) => statuses.push(s) });
    try {
      await waitFor('live', () => statuses.some((s) => s.state === 'live'));
      // small transactions before and after, on members the big one also touches
      await src.sql(`UPDATE film SET title = 'before' WHERE film_id = 1`);
      await src.sql(BIG_TX(100_000));
      await src.sql(`UPDATE film SET title = 'after' WHERE film_id = 1`);
      await waitFor('the transaction and the one after it in the target', async () =>
        (await tgt.sql(`SELECT count(*) AS n FROM (${CHANGED(100_000)}) c`)).rows[0].n === '12010' &&
        (await tgt.sql(`SELECT title FROM mirror.film WHERE film_id = 1`)).rows[0].title === 'after');
      const xmins = await tgt.sql(`SELECT x, count(*) AS n FROM (${CHANGED(100_000)}) c GROUP BY x`);
      expect(xmins.rows).toHaveLength(1);
      expect(xmins.rows[0].n).toBe('12010');
      // the target's copies of the members' foreign keys are there, deferred, and were checked at that COMMIT
      const fks = await tgt.sql(`SELECT count(*) AS n FROM pg_constraint WHERE contype = 'f' AND connamespace = 'mirror'::regnamespace AND condeferrable`);
      expect(Number(fks.rows[0].n)).toBeGreaterThanOrEqual(5);
      expect(await orphans()).toBe('0');
      expect(statuses.filter((s) => s.state === 'reconnecting')).toEqual([]);
      await members();
    } finally {
      await handle.stop();
    }
  });

  it('a transaction bigger than the watcher\'s memory bound arrives whole through the set\'s one-transaction catch-up', async () => {
    const statuses: ListenerStatus[] = [];
    const handle = watchSet(ctx, { onStatus: (s) => statuses.push(s), maxPendingKeys: 1000 });
    try {
      await waitFor('live', () => statuses.some((s) => s.state === 'live'));
      await src.sql(BIG_TX(200_000));
      await waitFor('the transaction in the target', async () => (await tgt.sql(`SELECT count(*) AS n FROM (${CHANGED(200_000)}) c`)).rows[0].n === '12010');
      const xmins = await tgt.sql(`SELECT x, count(*) AS n FROM (${CHANGED(200_000)}) c GROUP BY x`);
      expect(xmins.rows).toHaveLength(1);
      expect(await orphans()).toBe('0');
      expect(statuses.filter((s) => s.state === 'reconnecting')).toEqual([]);
      await members();
    } finally {
      await handle.stop();
    }
  });

  it('a TRUNCATE and other changes in one source transaction arrive in one target transaction', async () => {
    const statuses: ListenerStatus[] = [];
    const handle = watchSet(ctx, { onStatus: (s) => statuses.push(s) });
    try {
      await waitFor('live', () => statuses.some((s) => s.state === 'live'));
      // The target records the transaction of every row written to two members (hand-added triggers:
      // a deleted row leaves no xmin behind).
      await tgt.sql(`
        CREATE TABLE public.written (xact text NOT NULL, tbl text NOT NULL, op text NOT NULL);
        CREATE FUNCTION public.written_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO public.written VALUES (pg_current_xact_id()::text, TG_TABLE_NAME, TG_OP); RETURN NULL; END $$;
        CREATE TRIGGER written_log AFTER INSERT OR UPDATE OR DELETE ON mirror.film_actor FOR EACH ROW EXECUTE FUNCTION public.written_log();
        CREATE TRIGGER written_log AFTER INSERT OR UPDATE OR DELETE ON mirror.film FOR EACH ROW EXECUTE FUNCTION public.written_log();`);
      const before = Number((await tgt.sql(`SELECT count(*) AS n FROM mirror.film_actor`)).rows[0].n);
      await src.sql(`BEGIN; TRUNCATE film_actor; INSERT INTO film_actor (actor_id, film_id) SELECT g, g FROM generate_series(1, 5) g; UPDATE film SET title = 'with the truncate' WHERE film_id = 2; COMMIT;`);
      await waitFor('the transaction in the target', async () =>
        (await tgt.sql(`SELECT count(*) AS n FROM mirror.film_actor`)).rows[0].n === '5' &&
        (await tgt.sql(`SELECT title FROM mirror.film WHERE film_id = 2`)).rows[0].title === 'with the truncate');
      const xacts = (await tgt.sql(`SELECT xact, count(*) FILTER (WHERE tbl = 'film_actor' AND op = 'DELETE') AS deleted, count(*) FILTER (WHERE tbl = 'film') AS film FROM public.written GROUP BY 1`)).rows;
      expect(before).toBeGreaterThan(5);
      expect(xacts).toEqual([{ xact: expect.any(String), deleted: expect.any(String), film: '1' }]);
      expect(Number(xacts[0]!.deleted)).toBeGreaterThanOrEqual(before - 5);
      expect(statuses.filter((s) => s.state === 'reconnecting')).toEqual([]);
      await members();
    } finally {
      await handle.stop();
    }
  });
});
