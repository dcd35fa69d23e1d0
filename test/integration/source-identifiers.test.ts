import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { copyRowsOut, PgTableSource, readRowsByKeys, resolveSource, scanKeyFingerprint, scanKeyOrdinal, countRows } from '../../core/source';
import { byFirst, collect, copyRows } from '../fixtures/source/collect';

// Identifiers that break naive SQL building: reserved words, spaces and capitals, quotes and
// non-ASCII, a dot, a system-column look-alike, in a non-public schema.
describe('unusual identifiers work on every read path', () => {
  let db: TestDatabase;
  const schema = 'Näive "Schema"';
  const table = 'My Table';
  beforeAll(async () => {
    db = await freshDatabase();
    await db.sql(`CREATE SCHEMA "Näive ""Schema"""`);
    await db.sql(`CREATE TABLE "Näive ""Schema"""."My Table" (
      "select" int, "naïve""quote" text, "a.b" text, "ctid_" text, "My Col" timestamptz, "from" text,
      PRIMARY KEY ("select", "naïve""quote"))`);
    await db.sql(`INSERT INTO "Näive ""Schema"""."My Table" VALUES
      (1, 'k"1', 'dot', 'c1', '2024-01-01 00:00:00+00', 'f1'),
      (2, 'k 2', NULL, 'c2', '2024-01-02 00:00:00+00', 'f2'),
      (3, 'k3', 'x', 'c3', '2024-01-03 00:00:00+00', 'f3')`);
  });
  afterAll(async () => { await db?.drop(); });

  it('resolves, filters, reads, scans and re-reads', async () => {
    const r = await resolveSource(db.pool, {
      schema, table, includedColumns: ['from', 'a.b', 'ctid_'], ordinalColumn: 'My Col',
      filter: `"select" < 3 AND "naïve""quote" <> '' AND "My Table"."from" LIKE 'f%'`,
    });
    expect(r.keyColumns.map((c) => c.name)).toEqual(['select', 'naïve"quote']);
    expect(r.valueColumns.map((c) => c.name)).toEqual(['a.b', 'ctid_', 'from']);
    expect(byFirst(await copyRows(copyRowsOut(db.pool, r)))).toEqual([
      ['1', 'k"1', 'dot', 'c1', 'f1'],
      ['2', 'k 2', null, 'c2', 'f2'],
    ]);
    expect(byFirst(await copyRows(scanKeyOrdinal(db.pool, r)))).toEqual([
      ['1', 'k"1', '2024-01-01 00:00:00+00'],
      ['2', 'k 2', '2024-01-02 00:00:00+00'],
    ]);
    const fps = await copyRows(scanKeyFingerprint(db.pool, r));
    expect(fps).toHaveLength(2);
    expect(fps.every((row) => /^-?\d+$/.test(row[2]!))).toBe(true);
    expect(byFirst(await collect(readRowsByKeys(db.pool, r, [['2', 'k 2'], ['3', 'k3'], ['1', 'k"1']])))).toEqual([
      ['1', 'k"1', 'dot', 'c1', 'f1'],
      ['2', 'k 2', null, 'c2', 'f2'],
    ]);
    expect(await countRows(db.pool, r, { exact: true })).toEqual({ count: 2, exact: true });
  });

  it('PgTableSource reads named fields', async () => {
    const rows = await collect(new PgTableSource(db.pool, { schema, table, columns: ['select', 'a.b'] }).fetchRows());
    expect(byFirst(rows.map((x) => [x['select']!, x['naïve"quote']!, x['a.b']!]))).toEqual([
      ['1', 'k"1', 'dot'], ['2', 'k 2', null], ['3', 'k3', 'x'],
    ]);
    expect(Object.keys(rows[0]!)).toEqual(['select', 'naïve"quote', 'a.b']);
  });
});
