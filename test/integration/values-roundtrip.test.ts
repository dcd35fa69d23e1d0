import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { copyRowsOut, PgTableSource, readRowsByKeys, resolveSource, type ResolvedSource } from '../../core/source';
import { byFirst, collect, copyRows } from '../fixtures/source/collect';

// Each value's exact text must survive all three read paths: the bulk COPY, typed rows and the
// re-read by key. Expected values are what the server itself prints under the source's settings.
describe('values keep their exact meaning through every read path', () => {
  let db: TestDatabase;
  let resolved: ResolvedSource;
  let expected: (string | null)[][];
  const cols = ['big', 'num', 'ts', 'd', 'iv', 'u', 'j', 'jb', 'arr', 'iarr', 'bin', 'mood', 'txt', 'f8', 'tt'];

  beforeAll(async () => {
    db = await freshDatabase();
    await db.sql(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy "quoted"')`);
    await db.sql(`CREATE TABLE vals (
      id bigint PRIMARY KEY, big bigint, num numeric, ts timestamptz, d date, iv interval, u uuid,
      j json, jb jsonb, arr text[], iarr int[], bin bytea, mood mood, txt text, f8 float8, tt timestamp)`);
    await db.sql(`INSERT INTO vals VALUES
      (9007199254740993, 9223372036854775807, 12345678901234567890.123456789012345678, '2024-02-29 23:59:59.123456+05:30',
       '0001-01-01 BC', '1 year 2 mons 3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
       '{"b": 1, "a": [1.10, null]}', '{"z": 1.10, "a": "x\\ny"}', ARRAY['a "q"', NULL, 'b,c', '{}', 'NULL', E'tab\\there', ''],
       '{{1,2},{3,NULL}}', '\\x00ff5c0a0d09', 'happy "quoted"', E'line1\\nline2\\ttab\\\\back', 'NaN', '294276-12-31 23:59:59.999999'),
      (-9223372036854775808, -1, 0.000000000000000000001, 'infinity', 'infinity', '-1 day +02:00', '00000000-0000-0000-0000-000000000000',
       'null', '[]', '{}', '{}', '\\x', 'sad', '', '-0', '-infinity'),
      (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
      (3, 0, 1.00, '2000-01-01 00:00:00+00', '2000-01-01', '0', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '"é"', '"😀"',
       ARRAY['naïve', '日本語', '😀', E'\\u200b', 'ﬁ'], '{-2147483648}', '\\xdeadbeef', 'ok', 'zero‍width‍joiner 👩‍👩‍👧 ﷽', 1e-308, '1999-12-31 23:59:59')`);
    resolved = await resolveSource(db.pool, { table: 'vals' });
    // The server's own text of each value, under the same settings the source uses.
    const client = await db.pool.connect();
    try {
      await client.query("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 1");
      const res = await client.query({ text: `SELECT id, ${cols.join(', ')} FROM vals`, rowMode: 'array' });
      expected = byFirst(res.rows as (string | null)[][]);
    } finally {
      client.release();
    }
  });
  afterAll(async () => { await db?.drop(); });

  it('resolves keys then value columns in table order', () => {
    expect(resolved.keyColumns.map((c) => c.name)).toEqual(['id']);
    expect(resolved.valueColumns.map((c) => c.name)).toEqual(cols);
  });

  it('the server text is what we expect it to be (sanity of the fixture)', () => {
    const first = expected.find((r) => r[0] === '9007199254740993')!;
    expect(first[1]).toBe('9223372036854775807');
    expect(first[2]).toBe('12345678901234567890.123456789012345678');
    expect(first[3]).toBe('2024-02-29 18:29:59.123456+00');
    expect(first[12]).toBe('happy "quoted"');
    expect(first[14]).toBe('NaN');
    const nulls = expected.find((r) => r[0] === '2')!;
    expect(nulls.slice(1).every((v) => v === null)).toBe(true);
    const empty = expected.find((r) => r[0] === '-9223372036854775808')!;
    expect(empty[13]).toBe('');
  });

  it('copyRowsOut', async () => {
    expect(byFirst(await copyRows(copyRowsOut(db.pool, resolved)))).toEqual(expected);
  });

  it('PgTableSource.fetchRows', async () => {
    const rows = await collect(new PgTableSource(db.pool, { table: 'vals' }).fetchRows());
    const asArrays = rows.map((r) => ['id', ...cols].map((c) => r[c]!));
    expect(Object.keys(rows[0]!)).toEqual(['id', ...cols]);
    expect(byFirst(asArrays)).toEqual(expected);
  });

  it('readRowsByKeys', async () => {
    const keys = expected.map((r) => [r[0]!]);
    const rows = await collect(readRowsByKeys(db.pool, resolved, [...keys, ['12345']]));
    expect(byFirst(rows)).toEqual(expected);
  });

  it('NULL and empty string stay distinct', () => {
    const empty = expected.find((r) => r[0] === '-9223372036854775808')!;
    const nulls = expected.find((r) => r[0] === '2')!;
    expect(empty[13]).toBe('');
    expect(nulls[13]).toBeNull();
  });
});
