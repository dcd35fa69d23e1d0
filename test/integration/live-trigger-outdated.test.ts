import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';
import { listenRaw, waitFor } from '../support/live';
import { captureNames } from '../../core/live/channel';
import { captureState, dropCapture, ensureCapture } from '../../core/live/capture';
import { createPool } from '../../core/connections/pool';
import type pg from 'pg';

// Starting to listen repairs what is out of date: a function from another definition, a trigger
// someone dropped or disabled; and leaves a current installation alone.
describe('capture objects replaced when outdated', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  const names = captureNames('outdated', 'items');
  const table = { flow: 'outdated', schema: 'public', table: 'items', keyColumns: ['id'] };
  const fnOid = async () => (await db.sql(`SELECT to_regprocedure($1)::oid::text AS o`, [`public."${names.functionName}"()`])).rows[0].o as string | null;

  beforeAll(async () => {
    db = await freshDatabase('live_outdated');
    pool = createPool(db.url);
    await db.sql(`CREATE TABLE items (id int PRIMARY KEY, v text, ord int)`);
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('leaves a current installation untouched', async () => {
    await ensureCapture(pool, table, names);
    const oid = await fnOid();
    expect(await ensureCapture(pool, table, names)).toBe('current');
    expect(await fnOid()).toBe(oid);
  });

  it('replaces a function whose definition differs (an older version)', async () => {
    await db.sql(`CREATE OR REPLACE FUNCTION public."${names.functionName}"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('${names.channel}', 'old'); RETURN NULL; END $$`);
    await db.sql(`COMMENT ON FUNCTION public."${names.functionName}"() IS 'tablesync live capture [0000000000000000]: notifies channel x'`);
    expect(await captureState(pool, table, names)).toBe('outdated');
    expect(await ensureCapture(pool, table, names)).toBe('outdated');
    expect(await captureState(pool, table, names)).toBe('current');
    const raw = await listenRaw(db.url, names.channel);
    try {
      await db.sql(`INSERT INTO items VALUES (1, 'a', 1)`);
      await waitFor('a notification', () => raw.payloads.length === 1);
      expect(JSON.parse(raw.payloads[0]!)).toMatchObject({ op: 'insert', key: { id: '1' } });
    } finally {
      await raw.close();
    }
  });

  it('recreates a dropped or disabled trigger', async () => {
    await db.sql(`DROP TRIGGER "${names.truncateTrigger}" ON items`);
    expect(await captureState(pool, table, names)).toBe('outdated');
    await ensureCapture(pool, table, names);
    await db.sql(`ALTER TABLE items DISABLE TRIGGER "${names.rowTrigger}"`);
    expect(await captureState(pool, table, names)).toBe('outdated');
    await ensureCapture(pool, table, names);
    expect(await captureState(pool, table, names)).toBe('current');
  });

  it('replaces the definition when the flow gains an ordinal column', async () => {
    const withOrdinal = { ...table, ordinalColumn: 'ord' };
    expect(await captureState(pool, withOrdinal, names)).toBe('outdated');
    await ensureCapture(pool, withOrdinal, names);
    const raw = await listenRaw(db.url, names.channel);
    try {
      await db.sql(`UPDATE items SET ord = 7 WHERE id = 1`);
      await waitFor('a notification', () => raw.payloads.length === 1);
      expect(JSON.parse(raw.payloads[0]!)).toMatchObject({ op: 'update', key: { id: '1' }, ordinal: '7' });
    } finally {
      await raw.close();
    }
  });

  it('drop removes both triggers and the function', async () => {
    await dropCapture(pool, 'outdated', table, names);
    expect(await captureState(pool, table, names)).toBe('missing');
    const { rows } = await db.sql(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'items'::regclass AND NOT tgisinternal`);
    expect(rows[0].n).toBe('0');
    await dropCapture(pool, 'outdated', table, names); // idempotent
  });
});
