import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/db';

// The harness itself: a real server of the project's version, reachable, and a private database per file.
describe('real PostgreSQL harness', () => {
  let db: TestDatabase;
  beforeAll(async () => { db = await freshDatabase(); });
  afterAll(async () => { await db.drop(); });

  it('runs the server version this project is for', async () => {
    const { rows } = await db.sql('select current_setting($1) as v', ['server_version_num']);
    const major = Math.floor(Number(rows[0].v) / 10000);
    expect(inject('pgLabel')).toContain(`PostgreSQL ${major}`);
  });

  it('returns values as exact text (no lossy JS parsing)', async () => {
    const { rows } = await db.sql(`select 9007199254740993::bigint as b, '2024-01-02 03:04:05.123456+00'::timestamptz as t`);
    expect(rows[0].b).toBe('9007199254740993');
    expect(rows[0].t).toMatch(/\.123456/);
  });
});
