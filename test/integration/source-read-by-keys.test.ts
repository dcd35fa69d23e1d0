import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { readRowsByKeys, resolveSource, KEYS_PER_QUERY } from '../../core/source';
import { collect } from '../fixtures/source/collect';

// Re-reading by key: only rows that exist and pass the filter, keys compared in their own types
// (a bigint past 2^53 exactly), batched past KEYS_PER_QUERY.
describe('readRowsByKeys', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase();
    await db.sql(`CREATE TABLE k (region text, id bigint, v text, live boolean, PRIMARY KEY (region, id))`);
    await db.sql(`INSERT INTO k SELECT CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 9007199254740000 + g, 'v' || g, g % 10 <> 0
                    FROM generate_series(1, 13000) g`);
  });
  afterAll(async () => { await db?.drop(); });

  it('returns existing rows that pass the filter, across batches', async () => {
    const r = await resolveSource(db.pool, { table: 'k', includedColumns: ['v'], filter: 'live' });
    const keys: string[][] = [];
    for (let g = 1; g <= 13000; g++) keys.push([g % 2 === 0 ? 'eu' : 'us', String(9007199254740000n + BigInt(g))]);
    keys.push(['eu', '9007199254740001'], ['mars', '1']); // wrong region for that id; no such region
    expect(keys.length).toBeGreaterThan(2 * KEYS_PER_QUERY);
    const rows = await collect(readRowsByKeys(db.pool, r, keys));
    expect(rows).toHaveLength(13000 - 1300);
    expect(rows.find((x) => x[1] === '9007199254740993')).toEqual(['us', '9007199254740993', 'v993']);
    expect(rows.some((x) => x[1] === '9007199254740010')).toBe(false); // filtered out
    expect(rows.some((x) => x[0] === 'mars')).toBe(false);
  });

  it('a bigint key is matched exactly, not through a double', async () => {
    const r = await resolveSource(db.pool, { table: 'k', includedColumns: [] });
    expect(await collect(readRowsByKeys(db.pool, r, [['us', '9007199254740993']]))).toEqual([['us', '9007199254740993']]);
    expect(await collect(readRowsByKeys(db.pool, r, [['us', '9007199254740992']]))).toEqual([]);
  });

  it('no keys, no query', async () => {
    const r = await resolveSource(db.pool, { table: 'k' });
    expect(await collect(readRowsByKeys(db.pool, r, []))).toEqual([]);
  });
});
