/**
 * A small film-rental schema for the set tests: 8 member tables linked by foreign keys (a
 * self-reference: film.sequel_of; a cycle: store.manager_staff_id ↔ staff.store_id), an enum column
 * (film.rating), a partitioned table (payment, two partitions), a table without a key, a view, and
 * an audit table the sets exclude by pattern.
 */
import type { TestDatabase } from '../support/db';

export const MEMBER_TABLES = ['actor', 'customer', 'film', 'film_actor', 'language', 'payment', 'staff', 'store'];

export async function createRentalSchema(db: TestDatabase, scale = 1): Promise<void> {
  await db.sql(`
    CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
    CREATE TABLE language (language_id int PRIMARY KEY, name text NOT NULL, last_update timestamptz NOT NULL DEFAULT now());
    CREATE TABLE film (film_id int PRIMARY KEY, title text NOT NULL, language_id int NOT NULL REFERENCES language,
                       rating mpaa_rating, sequel_of int REFERENCES film (film_id), last_update timestamptz NOT NULL DEFAULT now());
    CREATE TABLE actor (actor_id int PRIMARY KEY, name text NOT NULL, last_update timestamptz NOT NULL DEFAULT now());
    CREATE TABLE film_actor (actor_id int REFERENCES actor, film_id int REFERENCES film, last_update timestamptz NOT NULL DEFAULT now(),
                             PRIMARY KEY (actor_id, film_id));
    CREATE TABLE store (store_id int PRIMARY KEY, manager_staff_id int, last_update timestamptz NOT NULL DEFAULT now());
    CREATE TABLE staff (staff_id int PRIMARY KEY, store_id int NOT NULL REFERENCES store, name text, last_update timestamptz NOT NULL DEFAULT now());
    ALTER TABLE store ADD CONSTRAINT store_manager_fkey FOREIGN KEY (manager_staff_id) REFERENCES staff DEFERRABLE INITIALLY DEFERRED;
    CREATE TABLE customer (customer_id int PRIMARY KEY, store_id int NOT NULL REFERENCES store, name text, last_update timestamptz NOT NULL DEFAULT now());
    CREATE TABLE payment (payment_id int, payment_date date, customer_id int NOT NULL REFERENCES customer, amount numeric(8,2),
                          PRIMARY KEY (payment_id, payment_date)) PARTITION BY RANGE (payment_date);
    CREATE TABLE payment_2024 PARTITION OF payment FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE TABLE payment_2025 PARTITION OF payment FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
    CREATE TABLE notes_nokey (note text);
    CREATE TABLE audit_log (id int PRIMARY KEY, what text);
    CREATE VIEW film_list AS SELECT f.film_id, f.title, l.name AS language FROM film f JOIN language l USING (language_id);
  `);
  const n = 20 * scale;
  await db.sql(`
    BEGIN;
    INSERT INTO language SELECT g, 'lang ' || g FROM generate_series(1, 5) g;
    INSERT INTO film SELECT g, 'film ' || g, 1 + g % 5, (enum_range(NULL::mpaa_rating))[1 + g % 5], CASE WHEN g > 1 AND g % 3 = 0 THEN g - 1 END FROM generate_series(1, ${n * 5}) g;
    INSERT INTO actor SELECT g, 'actor ' || g FROM generate_series(1, ${n * 2}) g;
    INSERT INTO film_actor SELECT a, f, now() FROM generate_series(1, ${n * 2}) a, generate_series(1, 3) k, LATERAL (SELECT 1 + (a * 7 + k * 13) % ${n * 5} AS f) x ON CONFLICT DO NOTHING;
    INSERT INTO store SELECT g, g FROM generate_series(1, 3) g;
    INSERT INTO staff SELECT g, g, 'staff ' || g FROM generate_series(1, 3) g;
    INSERT INTO customer SELECT g, 1 + g % 3, 'customer ' || g FROM generate_series(1, ${n * 3}) g;
    INSERT INTO payment SELECT g, DATE '2024-06-01' + (g % 400), 1 + g % ${n * 3}, g * 0.25 FROM generate_series(1, ${n * 10}) g;
    INSERT INTO notes_nokey VALUES ('no key here');
    INSERT INTO audit_log VALUES (1, 'x');
    COMMIT;
  `);
}

/** The rental set: every table of the schema but audit_*, enum rating as text, ordinal last_update where it qualifies. */
export function rentalSet(sourceUrl: string, targetUrl: string, over: Record<string, unknown> = {}) {
  return {
    version: 1,
    set: 'rental',
    source: { connection: { url: sourceUrl }, schema: 'public' },
    target: { connection: { url: targetUrl }, schema: 'mirror', managedBy: 'system' },
    tables: '*',
    exclude: ['audit_*'],
    defaults: { ordinalColumn: 'last_update', typeOverrides: { mpaa_rating: 'text' }, notification: {} },
    foreignKeys: true,
    ...over,
  };
}

/** count + md5 of a table's rows as text (enum as text), in key order: equal on both sides means equal rows. */
export async function tableDigest(db: TestDatabase, qualified: string, order: string): Promise<{ n: string; h: string | null }> {
  return (await db.sql(`SELECT count(*) AS n, md5(string_agg(t::text, '|' ORDER BY ${order})) AS h FROM ${qualified} t`)).rows[0] as { n: string; h: string | null };
}

export const ORDER: Record<string, string> = {
  actor: 'actor_id', customer: 'customer_id', film: 'film_id', film_actor: 'actor_id, film_id', language: 'language_id',
  payment: 'payment_id, payment_date', staff: 'staff_id', store: 'store_id',
};
