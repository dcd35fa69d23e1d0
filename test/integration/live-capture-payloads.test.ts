import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { listenRaw, waitFor, type RawListener } from '../support/live';
import { captureNames } from '../../core/live/channel';
import { captureState, ensureCapture } from '../../core/live/capture';
import { createPool } from '../../core/connections/pool';
import type pg from 'pg';

// What the trigger sends: op, key as text (old and new on a key change), the ordinal, a source time,
// a truncate, and a rescan instead of an error when the key is too big for a NOTIFY payload.
describe('capture trigger payloads', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let raw: RawListener;
  const names = captureNames('payloads', 'Orders');
  const table = { flow: 'payloads', schema: 'Sales', table: 'Orders', keyColumns: ['id', 'Region'], ordinalColumn: 'modified' };

  beforeAll(async () => {
    db = await freshDatabase('live_payload');
    pool = createPool(db.url);
    await db.sql(`CREATE SCHEMA "Sales"; CREATE TABLE "Sales"."Orders" (id bigint, "Region" text, amount numeric, modified bigint, PRIMARY KEY (id, "Region"))`);
    expect(await captureState(pool, table, names)).toBe('missing');
    expect(await ensureCapture(pool, table, names)).toBe('missing');
    expect(await captureState(pool, table, names)).toBe('current');
    raw = await listenRaw(db.url, names.channel);
  });
  afterAll(async () => {
    await raw?.close();
    await pool?.end();
    await db?.drop();
  });

  const next = async (n: number) => {
    await waitFor(`${n} notifications`, () => raw.payloads.length >= n);
    const got = raw.parsed();
    raw.payloads.length = 0;
    return got;
  };

  it('names the function and the triggers after the channel', async () => {
    const { rows } = await db.sql(`SELECT tgname FROM pg_trigger WHERE tgrelid = '"Sales"."Orders"'::regclass ORDER BY tgname`);
    expect(rows.map((r) => r.tgname)).toEqual([names.truncateTrigger, names.rowTrigger].sort());
    const fn = await db.sql(`SELECT to_regprocedure($1) AS f`, [`"Sales"."${names.functionName}"()`]);
    expect(fn.rows[0].f).not.toBeNull();
  });

  it('sends insert, update and delete with the key as text and the ordinal', async () => {
    const before = Date.now();
    await db.sql(`INSERT INTO "Sales"."Orders" VALUES (9007199254740993, 'eu', 1.5, 1)`);
    await db.sql(`UPDATE "Sales"."Orders" SET amount = 2, modified = 2 WHERE id = 9007199254740993`);
    await db.sql(`DELETE FROM "Sales"."Orders" WHERE id = 9007199254740993`);
    const got = await next(3);
    expect(got.map(({ ts: _ts, tx: _tx, ...rest }) => rest)).toEqual([
      { op: 'insert', key: { id: '9007199254740993', Region: 'eu' }, ordinal: '1' },
      { op: 'update', key: { id: '9007199254740993', Region: 'eu' }, ordinal: '2' },
      { op: 'delete', key: { id: '9007199254740993', Region: 'eu' }, ordinal: '2' },
    ]);
    // three statements, three source transactions: each notification names its own
    expect(new Set(got.map((m) => m.tx)).size).toBe(3);
    for (const m of got) {
      expect(m.tx).toMatch(/^[0-9]+$/);
      expect(typeof m.ts).toBe('number');
      expect(Math.abs((m.ts as number) - before)).toBeLessThan(60_000);
    }
  });

  it('reports the old and the new key when an update changes the key', async () => {
    await db.sql(`INSERT INTO "Sales"."Orders" VALUES (1, 'eu', 1, 1)`);
    await next(1);
    await db.sql(`UPDATE "Sales"."Orders" SET "Region" = 'us' WHERE id = 1`);
    const [m] = await next(1);
    expect(m).toMatchObject({ op: 'update', key: { id: '1', Region: 'us' }, old_key: { id: '1', Region: 'eu' } });
  });

  it('asks for a rescan on TRUNCATE', async () => {
    await db.sql(`TRUNCATE "Sales"."Orders"`);
    const [m] = await next(1);
    expect(m).toMatchObject({ op: 'truncate' });
  });

  it('asks for a rescan instead of failing the write when the key is too long for a payload', async () => {
    const big = 'k'.repeat(9000);
    await db.sql(`INSERT INTO "Sales"."Orders" VALUES (2, $1, 1, 1)`, [big]);
    const [m] = await next(1);
    expect(m).toEqual({ op: 'rescan', ts: expect.any(Number), tx: expect.stringMatching(/^[0-9]+$/) });
    const { rows } = await db.sql(`SELECT count(*)::int AS n FROM "Sales"."Orders" WHERE "Region" = $1`, [big]);
    expect(rows[0].n).toBe('1');
  });
});
