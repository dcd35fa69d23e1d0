import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { resolveSource, scanKeyFingerprint, type ResolvedSource } from '../../core/source';
import { copyRows } from '../fixtures/source/collect';

// The fingerprint decides whether a row is re-copied when there is no ordinal: it must change
// when any included value changes (including NULL ↔ '' and text-only differences such as 1.0 →
// 1.00), and stay the same otherwise.
describe('key+fingerprint scan', () => {
  let db: TestDatabase;
  let r: ResolvedSource;
  const fingerprints = async (res = r) => new Map((await copyRows(scanKeyFingerprint(db.pool, res))).map((row) => [row[0]!, row[1]!]));

  beforeAll(async () => {
    db = await freshDatabase();
    await db.sql(`CREATE TABLE f (id int PRIMARY KEY, t text, n numeric, j json, jb jsonb, p point, x xml, iv interval,
      arr numeric[], ts timestamptz, b bytea, other text)`);
    await db.sql(`INSERT INTO f SELECT g, 'v' || g, g, '{"a": 1}', '{"a": 1}', point(g, g), '<a/>', '1 day', '{1.0}', '2024-01-01', '\\x00', 'o' FROM generate_series(1, 20) g`);
    r = await resolveSource(db.pool, { table: 'f', includedColumns: ['t', 'n', 'j', 'jb', 'p', 'x', 'iv', 'arr', 'ts', 'b'] });
  });
  afterAll(async () => { await db?.drop(); });

  it('is a server-computed int8 per key, stable across scans', async () => {
    const a = await fingerprints();
    expect(a.size).toBe(20);
    for (const v of a.values()) expect(v).toMatch(/^-?\d+$/);
    expect(new Set(a.values()).size).toBe(20);
    expect(await fingerprints()).toEqual(a);
  });

  const changes: [string, string][] = [
    ['text', `t = 'changed'`],
    ['NULL to empty string', `t = ''`],
    ['empty string to NULL', `t = NULL`],
    ['numeric scale only', `n = 1.00`],
    ['json (no hash function)', `j = '{"a":1}'`],
    ['jsonb number text', `jb = '{"a": 1.0}'`],
    ['point (no hash function)', `p = point(9, 9)`],
    ['xml (no hash function)', `x = '<b/>'`],
    ['interval equal by value', `iv = '24 hours'`],
    ['numeric array scale', `arr = '{1.00}'`],
    ['timestamptz microsecond', `ts = '2024-01-01 00:00:00.000001+00'`],
    ['bytea', `b = '\\x01'`],
  ];
  it.each(changes)('changes when %s changes, and only for that row', async (_name, set) => {
    const before = await fingerprints();
    await db.sql(`UPDATE f SET ${set} WHERE id = 1`);
    const after = await fingerprints();
    expect(after.get('1')).not.toBe(before.get('1'));
    for (const [k, v] of after) if (k !== '1') expect(v).toBe(before.get(k));
  });

  it('does not change for an excluded column or a no-op update', async () => {
    const before = await fingerprints();
    await db.sql(`UPDATE f SET other = 'changed' WHERE id = 2`);
    await db.sql(`UPDATE f SET t = t, n = n WHERE id = 3`);
    expect(await fingerprints()).toEqual(before);
  });

  it('distinguishes NULL from empty and depends on column order', async () => {
    await db.sql(`CREATE TABLE g (id int PRIMARY KEY, a text, b text)`);
    await db.sql(`INSERT INTO g VALUES (1, NULL, ''), (2, '', NULL), (3, '', ''), (4, NULL, NULL), (5, 'x', 'y'), (6, 'y', 'x')`);
    const rg = await resolveSource(db.pool, { table: 'g' });
    const fp = await fingerprints(rg);
    expect(new Set(fp.values()).size).toBe(6);
  });

  it('is the same on every server version (a pinned value), so an upgrade does not rewrite every row', async () => {
    await db.sql(`CREATE TABLE pinned (id int PRIMARY KEY, t text, n numeric(12,2), i bigint, ts timestamptz, j jsonb, e text)`);
    await db.sql(`INSERT INTO pinned VALUES (1, 'naïve "q"', 1.50, 9007199254740993, '2024-01-01 12:00:00.123456+00', '{"a": [1, null]}', NULL)`);
    const fp = await fingerprints(await resolveSource(db.pool, { table: 'pinned' }));
    expect(fp.get('1')).toBe(PINNED);
  });
});

// Fingerprint of the row in the last test, computed by PostgreSQL 18 and checked on 15 as well.
const PINNED = '2665383089534046542';
