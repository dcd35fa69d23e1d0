import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { copyRowsOut, readRowsByKeys, resolveSource, scanKeyOrdinal } from '../../core/source';
import { TableSyncError } from '../../core/errors';
import { byFirst, collect, copyRows } from '../fixtures/source/collect';

// A partitioned table with a primary key is a source like any table (rows from every partition);
// relations that cannot have one are refused by kind.
describe('partitioned tables as sources', () => {
  let db: TestDatabase;
  let fdw = true;
  beforeAll(async () => {
    db = await freshDatabase();
    await db.sql(`CREATE TABLE events (id bigint, region text, at timestamptz, payload jsonb, PRIMARY KEY (id, region)) PARTITION BY LIST (region)`);
    await db.sql(`CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu')`);
    await db.sql(`CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us')`);
    await db.sql(`INSERT INTO events VALUES (1, 'eu', '2024-01-01 00:00:00+00', '{"a":1}'), (2, 'us', '2024-01-02 00:00:00+00', NULL), (3, 'eu', NULL, '[]')`);
    try {
      await db.sql(`CREATE EXTENSION postgres_fdw`);
      await db.sql(`CREATE SERVER loop FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'postgres')`);
      await db.sql(`CREATE FOREIGN TABLE remote (id int) SERVER loop`);
    } catch {
      fdw = false;
    }
  });
  afterAll(async () => { await db?.drop(); });

  it('reads every partition, through the filter, by key and by ordinal', async () => {
    const r = await resolveSource(db.pool, { table: 'events', ordinalColumn: 'at', filter: `payload IS NOT NULL` });
    expect(r.description.kind).toBe('partitioned table');
    expect(byFirst(await copyRows(copyRowsOut(db.pool, r)))).toEqual([['1', 'eu', '2024-01-01 00:00:00+00', '{"a": 1}'], ['3', 'eu', null, '[]']]);
    expect(byFirst(await copyRows(scanKeyOrdinal(db.pool, r)))).toEqual([['1', 'eu', '2024-01-01 00:00:00+00'], ['3', 'eu', null]]);
    expect(await collect(readRowsByKeys(db.pool, r, [['2', 'us'], ['3', 'eu']]))).toEqual([['3', 'eu', null, '[]']]);
  });

  it('a foreign table is refused by kind', async (ctx) => {
    if (!fdw) ctx.skip(); // postgres_fdw missing from this server build
    await expect(resolveSource(db.pool, { table: 'remote' })).rejects.toSatisfy((e: unknown) =>
      e instanceof TableSyncError && e.code === 'UNSUPPORTED' && /"public"\."remote" is a foreign table: foreign tables cannot be sources \(tables without a primary key are not supported\)/.test(e.message));
  });
});
