/**
 * The one door for running source queries: a dedicated client from the pool inside
 * `BEGIN READ ONLY` with fixed output settings. Writes (nextval, INSERT in a CTE, …) fail with
 * PostgreSQL's read-only error whatever the filter says.
 */
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { TableSyncError, toTableSyncError } from '../errors';
import { SOURCE_SETTINGS_SQL } from './source-sql';
import { LONG_WORK_SQL } from '../sql/long-work';
import { BackendCancel, cancelSenderForPool, cancelWasSent } from '../connections/cancel';

/**
 * How every read-only transaction ends. A read has nothing to commit, and rolling back also drops
 * what READ ONLY lets through: notifications (pg_notify) and session settings changed with
 * set_config. Session-level advisory locks survive a rollback, so they are released too: a client
 * of ours, freshly checked out of the pool, holds none legitimately.
 */
export const END_READ_ONLY_SQL = 'ROLLBACK; SELECT pg_advisory_unlock_all()';

/**
 * Run `fn` with a client in a READ ONLY transaction (rolled back after: see END_READ_ONLY_SQL).
 * `signal` cancels the running statement on the server (pg_cancel_backend), which then fails with
 * CANCELLED. `endInBackground` resolves before the rollback's round trip.
 */
export async function withReadOnly<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, opts: { signal?: AbortSignal; endInBackground?: boolean; /** Sync work (a summary, a catch-up's window, a verify): without the server's statement and idle timeouts (core/sql/long-work.ts). Browsing keeps them. */ longWork?: boolean; /** All of `fn`'s statements read one snapshot (REPEATABLE READ). */ snapshot?: boolean } = {}): Promise<T> {
  if (opts.signal?.aborted) throw new TableSyncError('CANCELLED', 'cancelled before it started');
  const client = await connect(pool);
  let broken = false;
  // Repeated until `fn` settles, and the connection is not reused after (core/connections/cancel.ts).
  const cancel = opts.signal ? new BackendCancel(cancelSenderForPool(pool)) : undefined;
  cancel?.add(client);
  const onAbort = () => cancel?.cancel();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await client.query(`BEGIN${opts.snapshot ? ' ISOLATION LEVEL REPEATABLE READ' : ''} READ ONLY; ${SOURCE_SETTINGS_SQL}${opts.longWork ? `; ${LONG_WORK_SQL}` : ''}`);
    if (opts.signal?.aborted) throw new TableSyncError('CANCELLED', 'cancelled before it started');
    return await fn(client);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    void cancel?.settle();
    // A connection a cancel was sent to is destroyed (its pool sees to that): no rollback to wait for.
    const end = cancelWasSent(client) ? Promise.resolve(client.release(true)) : client.query(END_READ_ONLY_SQL).then(() => undefined, () => { broken = true; }).then(() => client.release(broken));
    // endInBackground: the result is handed over before the rollback's round trip (a live re-read
    // by key: nothing of it is needed for the answer); the client returns to the pool after it.
    if (!opts.endInBackground) await end;
  }
}

export async function connect(pool: pg.Pool): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (e) {
    throw toTableSyncError(e, 'cannot connect to the source');
  }
}

/**
 * `COPY (query) TO STDOUT` (text format) in a READ ONLY transaction on a dedicated client,
 * yielded chunk by chunk as the server sends it (bounded memory: the stream pauses while the
 * consumer does). COPY runs over the simple protocol, which would accept several statements, so
 * any user SQL inside `query` must have been checked by validateFilter (extended protocol, one
 * statement, same wrapping) first; resolveSource does that.
 *
 * The client goes back to the pool when the iteration ends; when the consumer stops early or
 * `signal` aborts, the connection is destroyed instead (it is in the middle of a COPY), and on an
 * abort its statement is cancelled on the server too (core/connections/cancel.ts).
 */
export async function* copyOut(pool: pg.Pool, query: string, opts: { signal?: AbortSignal; context?: string } = {}): AsyncGenerator<Buffer> {
  if (opts.signal?.aborted) throw new TableSyncError('CANCELLED', `${opts.context ?? 'reading the source'}: cancelled`);
  const client = await connect(pool);
  let done = false;
  let stream: ReturnType<typeof copyTo> | undefined;
  // Destroying the stream ends only our side: the server's statement (a verify's GROUP BY sends
  // nothing until it is done) is cancelled, and ended before the connection closes if it ran on.
  const cancel = opts.signal ? new BackendCancel(cancelSenderForPool(pool)) : undefined;
  cancel?.add(client);
  const onAbort = () => {
    cancel?.cancel();
    stream?.destroy(opts.signal?.reason instanceof Error ? opts.signal.reason : new Error('aborted'));
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await client.query(`BEGIN READ ONLY; ${SOURCE_SETTINGS_SQL}; ${LONG_WORK_SQL}`).catch((e: unknown) => { throw toTableSyncError(e, opts.context); });
    stream = client.query(copyTo(`COPY (${query}) TO STDOUT`));
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (e) {
      if (opts.signal?.aborted) throw new TableSyncError('CANCELLED', `${opts.context ?? 'reading the source'}: cancelled`, undefined, { cause: opts.signal.reason });
      throw toTableSyncError(e, opts.context);
    }
    await client.query(END_READ_ONLY_SQL).catch((e: unknown) => { throw toTableSyncError(e, opts.context); });
    done = true;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await cancel?.settle({ abandon: done ? [] : [client] });
    if (done) client.release();
    else client.release(true);
  }
}
