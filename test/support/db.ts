/**
 * Per-test-file databases on the project's server: each file works in a database of its own, so
 * files run in parallel without seeing each other's tables, roles aside (roles are server-wide:
 * name them uniquely).
 */
import { inject } from 'vitest';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { RAW_TYPES } from '../../core/connections/pool';

export interface TestDatabase {
  name: string;
  url: string;
  /** A pool on the database (values as raw text, like the engine's). */
  pool: pg.Pool;
  /** Run SQL (setup of fixtures). */
  sql: (text: string, params?: unknown[]) => Promise<pg.QueryResult>;
  /** Drop the database. */
  drop: () => Promise<void>;
}

export function serverUrl(): string {
  return inject('pgUrl');
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

export async function freshDatabase(prefix = 't', adminUrl = serverUrl()): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const pool = new pg.Pool({ connectionString: url, max: 4, types: RAW_TYPES });
  pool.on('error', () => {});
  return {
    name,
    url,
    pool,
    sql: (text, params) => pool.query(text, params as unknown[]),
    drop: async () => {
      await pool.end();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}
