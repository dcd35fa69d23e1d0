import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { resolveSource, type SourceSpecLike } from '../../core/source';
import { TableSyncError } from '../../core/errors';

// Every bad source spec of issue 2: a TableSyncError with a stable code, a message naming the
// thing, and nothing written anywhere (no rows, no sequence advance, no new objects).
describe('bad source input is refused before anything is written', () => {
  let db: TestDatabase;
  let before: string;

  const snapshot = async () => {
    const { rows } = await db.sql(`SELECT
      (SELECT count(*) FROM items)::text || '/' || (SELECT last_value FROM seq)::text || '/' || (SELECT is_called FROM seq)::text
      || '/' || (SELECT count(*) FROM pg_class WHERE relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace, 'pg_toast'::regnamespace))::text
      || '/' || (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace)::text
      || '/' || (SELECT count(*) FROM pg_trigger)::text AS s`);
    return rows[0].s as string;
  };

  beforeAll(async () => {
    db = await freshDatabase();
    await db.sql(`CREATE SEQUENCE seq`);
    await db.sql(`CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(12,2), n int, big bigint, small smallint,
      ts timestamp, tstz timestamptz, d date, label varchar(10), flag boolean)`);
    await db.sql(`INSERT INTO items VALUES (1, 'a', 1.50, 1, 1, 1, now(), now(), now(), 'x', true)`);
    await db.sql(`CREATE VIEW items_view AS SELECT * FROM items`);
    await db.sql(`CREATE MATERIALIZED VIEW items_mv AS SELECT * FROM items`);
    await db.sql(`CREATE TABLE nokey (id int, name text)`);
    before = await snapshot();
  });
  afterAll(async () => { await db?.drop(); });

  const cases: [string, SourceSpecLike, string, RegExp][] = [
    ['missing table', { table: 'nope' }, 'NOT_FOUND', /table "public"\."nope" does not exist/],
    ['missing schema', { schema: 'nowhere', table: 'items' }, 'NOT_FOUND', /schema "nowhere" does not exist/],
    ['a view', { table: 'items_view' }, 'UNSUPPORTED', /"public"\."items_view" is a view.*tables without a primary key are not supported/],
    ['a materialized view', { table: 'items_mv' }, 'UNSUPPORTED', /"items_mv" is a materialized view.*tables without a primary key are not supported/],
    ['a table without a primary key', { table: 'nokey' }, 'NO_PRIMARY_KEY', /"public"\."nokey" has no primary key: tables without a primary key are not supported/],
    ['unknown included column', { table: 'items', includedColumns: ['name', 'nope'] }, 'NOT_FOUND', /includedColumns: column "nope" does not exist in "public"\."items"/],
    ['key column in includedColumns', { table: 'items', includedColumns: ['id'] }, 'INVALID_INPUT', /includedColumns: column "id" is a primary-key column of "public"\."items"/],
    ['unknown ordinal column', { table: 'items', ordinalColumn: 'nope' }, 'NOT_FOUND', /ordinalColumn: column "nope" does not exist in "public"\."items"/],
    ['key ordinal column', { table: 'items', ordinalColumn: 'id' }, 'INVALID_INPUT', /ordinalColumn: column "id" is a primary-key column/],
    ['numeric ordinal column', { table: 'items', ordinalColumn: 'price' }, 'UNSUPPORTED', /ordinalColumn: column "price" of "public"\."items" has type numeric\(12,2\).*smallint, integer, bigint, timestamp/],
    ['date ordinal column', { table: 'items', ordinalColumn: 'd' }, 'UNSUPPORTED', /column "d" .* has type date/],
    ['text ordinal column', { table: 'items', ordinalColumn: 'label' }, 'UNSUPPORTED', /column "label" .* has type character varying\(10\)/],
    ['filter syntax error', { table: 'items', filter: 'price >' }, 'FILTER_INVALID', /filter on "public"\."items" is invalid: syntax error at or near "\)" \(at character 8 of the filter\)/],
    ['filter unknown column', { table: 'items', filter: 'prize > 0' }, 'FILTER_INVALID', /column "prize" does not exist \(at character 1 of the filter\)/],
    ['filter not boolean', { table: 'items', filter: 'price + 1' }, 'FILTER_INVALID', /argument of WHERE must be type boolean, not type numeric/],
    ['filter with two statements', { table: 'items', filter: '1=1; drop table items' }, 'FILTER_INVALID', /syntax error at or near ";" \(at character 4 of the filter\)/],
    ['filter escaping its parentheses', { table: 'items', filter: '1=1) ; (select 1' }, 'FILTER_INVALID', /cannot insert multiple commands into a prepared statement/],
    ['filter that writes', { table: 'items', filter: "nextval('seq') > 0" }, 'FILTER_INVALID', /the filter must not write: cannot execute nextval\(\) in a read-only transaction/],
    ['filter that writes behind a column', { table: 'items', filter: "n > 0 AND nextval('seq') > 0" }, 'FILTER_INVALID', /must not write/],
    ['filter that writes via a CTE-like call', { table: 'items', filter: "setval('seq', 100) > 0" }, 'FILTER_INVALID', /must not write: cannot execute setval\(\)/],
  ];

  for (const [name, spec, code, message] of cases) {
    it(`${name}: ${code}`, async () => {
      const err = await resolveSource(db.pool, spec).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(TableSyncError);
      expect((err as TableSyncError).code).toBe(code);
      expect((err as TableSyncError).message).toMatch(message);
      expect(await snapshot()).toBe(before);
    });
  }

  it('a good spec resolves (the cases above fail for their own reason)', async () => {
    const r = await resolveSource(db.pool, { table: 'items', includedColumns: ['price', 'name'], ordinalColumn: 'tstz', filter: 'price > 0' });
    expect(r.valueColumns.map((c) => c.name)).toEqual(['name', 'price']);
    for (const ord of ['n', 'big', 'small', 'ts', 'tstz']) {
      await expect(resolveSource(db.pool, { table: 'items', ordinalColumn: ord })).resolves.toMatchObject({ ordinalColumn: { name: ord } });
    }
    expect(await snapshot()).toBe(before);
  });
});
