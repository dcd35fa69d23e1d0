/**
 * Helpers for the live-capture tests: wait for a condition by polling with a deadline (never a
 * fixed sleep), collect raw notifications on a channel, and compare a target table with the
 * filtered source.
 */
import pg from 'pg';
import { quoteIdent } from '../../core/sql/ident';
import { RAW_TYPES } from '../../core/connections/pool';

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface RawListener {
  payloads: string[];
  parsed(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** LISTEN on a channel with a plain client and keep every payload. */
export async function listenRaw(url: string, channel: string): Promise<RawListener> {
  const client = new pg.Client({ connectionString: url, types: RAW_TYPES });
  client.on('error', () => {});
  await client.connect();
  const payloads: string[] = [];
  client.on('notification', (n) => { if (n.channel === channel) payloads.push(n.payload ?? ''); });
  await client.query(`LISTEN ${quoteIdent(channel)}`);
  return {
    payloads,
    parsed: () => payloads.map((p) => JSON.parse(p) as Record<string, unknown>),
    close: () => client.end(),
  };
}

/** Rows of a query as sorted JSON lines, for exact comparison of two tables' contents. */
export async function rowsAsLines(pool: pg.Pool, sql: string): Promise<string[]> {
  const { rows } = await pool.query(sql);
  return rows.map((r) => JSON.stringify(r)).sort();
}
