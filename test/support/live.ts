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

// ---------------------------------------------------------------- watching a flow

import type { ChangeEvent, ListenerStatus } from '../../core/api/model';
import type { FlowContext } from '../../core/target';
import { watchFlow, type WatchHandle, type WatchOptions } from '../../core/live';

export interface Watching {
  handle: WatchHandle;
  /** Row change events (catch-up entries are in `catchUps`). */
  events: ChangeEvent[];
  /** The catch-up entries (op 'catch-up'), in order. */
  catchUps: ChangeEvent[];
  statuses: ListenerStatus[];
  /** Wait until the listener has reported `live` at least `n` times (n-1 reconnects). */
  live(n?: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Start watching with fast reconnects and heartbeats (tests kill connections on purpose). */
export function watch(ctx: FlowContext, opts: WatchOptions = {}): Watching {
  const events: ChangeEvent[] = [];
  const catchUps: ChangeEvent[] = [];
  const statuses: ListenerStatus[] = [];
  const handle = watchFlow(ctx, {
    backoff: { initialMs: 50, maxMs: 500 },
    listener: { heartbeatMs: 500, heartbeatTimeoutMs: 2000 },
    ...opts,
    onEvent: (e) => { (e.op === 'catch-up' ? catchUps : events).push(e); opts.onEvent?.(e); },
    onStatus: (s) => { statuses.push(s); opts.onStatus?.(s); },
  });
  return {
    handle,
    events,
    catchUps,
    statuses,
    live: async (n = 1, timeoutMs = 30_000) => {
      await waitFor(`listener live (${n}×)`, () => {
        const failed = statuses.find((s) => s.state === 'failed');
        if (failed) throw new Error(`watch failed: ${failed.reason}`);
        return statuses.filter((s) => s.state === 'live').length >= n;
      }, timeoutMs);
    },
    stop: () => handle.stop(),
  };
}

/** Wait until `sql` returns the same rows on both databases (order-insensitive). */
export async function waitForSameRows(what: string, a: pg.Pool, aSql: string, b: pg.Pool, bSql: string, timeoutMs = 30_000): Promise<string[]> {
  let last = '';
  try {
    return await waitFor(what, async () => {
      const [x, y] = await Promise.all([rowsAsLines(a, aSql), rowsAsLines(b, bSql)]);
      last = `source ${x.length} rows, target ${y.length} rows${x.length < 5 ? `: ${x.join(' ')} vs ${y.join(' ')}` : ''}`;
      return JSON.stringify(x) === JSON.stringify(y) ? x : undefined;
    }, timeoutMs, 50);
  } catch (e) {
    throw new Error(`${(e as Error).message} (${last})`);
  }
}
