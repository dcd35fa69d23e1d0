import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { resolveSource, scanKeyOrdinal } from '../../core/source';
import { TableSyncError } from '../../core/errors';
import { byFirst, copyRows } from '../fixtures/source/collect';

describe('key+ordinal scan', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    await db.sql(`CREATE TABLE o (a int, b text, v text, version bigint, modified timestamptz, PRIMARY KEY (b, a))`);
    await db.sql(`INSERT INTO o VALUES (1, 'x', 'one', 9007199254740993, '2024-05-01 12:00:00.123456+02'),
      (2, 'y', 'two', NULL, NULL), (3, 'z', 'three', -5, '2024-05-02 00:00:00+00')`);
  });
  afterAll(async () => { await db?.drop(); });

  it('lists key columns in key order, then the ordinal as exact text, through the filter', async () => {
    const byVersion = await resolveSource(db.pool, { table: 'o', ordinalColumn: 'version', filter: `v <> 'three'` });
    const rows = await copyRows(scanKeyOrdinal(db.pool, byVersion));
    expect(rows.sort((p, q) => p[0]!.localeCompare(q[0]!))).toEqual([['x', '1', '9007199254740993'], ['y', '2', null]]);
    const byTime = await resolveSource(db.pool, { table: 'o', ordinalColumn: 'modified' });
    expect(byFirst(await copyRows(scanKeyOrdinal(db.pool, byTime)))).toEqual([
      ['x', '1', '2024-05-01 10:00:00.123456+00'], ['y', '2', null], ['z', '3', '2024-05-02 00:00:00+00'],
    ]);
  });

  it('needs an ordinal column', async () => {
    const r = await resolveSource(db.pool, { table: 'o' });
    expect(() => scanKeyOrdinal(db.pool, r)).toThrow(TableSyncError);
  });
});
