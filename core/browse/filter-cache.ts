/**
 * A filter is validated (validateFilter: extended protocol, read-only, one statement) before the
 * browser runs it; paging through one filtered table would otherwise re-validate on every page.
 * Remembered per pool, for a while and a bounded number of filters.
 */
import type pg from 'pg';
import { assertValidFilter } from '../source/filter';

const TTL_MS = 60_000;
const MAX = 200;
const validated = new WeakMap<pg.Pool, Map<string, number>>();

export async function ensureFilterValid(pool: pg.Pool, schema: string, table: string, filter: string): Promise<void> {
  let seen = validated.get(pool);
  if (!seen) validated.set(pool, (seen = new Map()));
  const key = JSON.stringify([schema, table, filter]);
  const at = seen.get(key);
  if (at !== undefined && Date.now() - at < TTL_MS) return;
  await assertValidFilter(pool, schema, table, filter);
  if (seen.size >= MAX) seen.delete(seen.keys().next().value as string);
  seen.set(key, Date.now());
}
