/**
 * One dedicated connection per channel (never from a pool: a pooled client would be handed to
 * someone else, and LISTEN is per session). It reports each payload, and reports the connection as
 * lost exactly once: on an error, on the server closing it (pg_terminate_backend, restart), or when
 * the heartbeat gets no answer in time (a dead peer that TCP would take minutes to notice).
 * Reconnecting is the caller's job (see watch.ts), because every new connection must be followed
 * by a catch-up before its notifications can be trusted.
 */
import { LONG_WORK_SESSION_SQL } from '../sql/long-work';
import type pg from 'pg';
import { connectClient } from '../connections/pool';
import { quoteIdent } from '../sql/ident';
import { randomBytes } from 'node:crypto';
import { TableSyncError } from '../errors';

export interface ListenerOptions {
  /** Interval between heartbeats (`SELECT 1`). */
  heartbeatMs?: number;
  /** A heartbeat that takes longer than this marks the connection as dead. */
  heartbeatTimeoutMs?: number;
  applicationName?: string;
  /**
   * Another session on the source (its pool): after LISTEN, a notification sent from it to this
   * connection must come back. A connection pooler in transaction or statement mode (PgBouncer)
   * accepts LISTEN but cannot carry its notifications: the watch would say live and hear nothing.
   * Refused then (UNSUPPORTED), naming the likely cause.
   */
  probeVia?: Pick<pg.Pool, 'query'>;
}

export interface ListenerHandlers {
  /** `channel`: which of the listened channels it came on (a set listens on many over one connection). */
  onNotification(payload: string | undefined, channel: string): void;
  /** Called at most once per listener, not after close(). */
  onLost(reason: string): void;
}

export interface Listener {
  readonly channel: string;
  /**
   * A round trip on the listening connection: resolves once every notification the server sent
   * before answering it has been handed to onNotification (true), or false when the connection
   * failed meanwhile (reported through onLost).
   */
  sync(): Promise<boolean>;
  /** UNLISTEN and disconnect. */
  close(): Promise<void>;
}

/**
 * Connect, LISTEN (on one channel, or on each of several: one connection for a whole set), start
 * the heartbeat. Rejects when it cannot connect or LISTEN.
 */
export async function openListener(url: string, channels: string | readonly string[], handlers: ListenerHandlers, opts: ListenerOptions = {}): Promise<Listener> {
  const list = typeof channels === 'string' ? [channels] : [...channels];
  const listening = new Set(list);
  const channel = list.join(', ');
  const heartbeatMs = opts.heartbeatMs ?? 5_000;
  const heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? 5_000;
  const client = await connectClient(url, { applicationName: opts.applicationName ?? 'tablesync live', label: { side: 'source' } });
  let done = false;
  let timer: NodeJS.Timeout | undefined;

  const destroy = () => {
    // end() waits for the server's goodbye, which a dead peer never sends; destroy the socket too.
    void client.end().catch(() => {});
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  };
  const lost = (reason: string) => {
    if (done) return;
    done = true;
    if (timer) clearTimeout(timer);
    destroy();
    handlers.onLost(reason);
  };

  // the probe's own notification (see ListenerOptions.probe) is not a change: never passed on
  const probePayload = JSON.stringify({ op: 'tablesync-probe', id: randomBytes(8).toString('hex') });
  let probed: (() => void) | undefined;
  client.on('notification', (n: pg.Notification) => {
    if (n.payload === probePayload) { probed?.(); return; }
    if (!done && listening.has(n.channel)) handlers.onNotification(n.payload, n.channel);
  });
  client.on('error', (e: Error) => lost(`listener connection error: ${e.message}`));
  client.on('end', () => lost('listener connection closed by the server'));

  try {
    // The connection is ours for hours and idle between notifications: not ended by the server's
    // idle_session_timeout (core/sql/long-work.ts); in the first LISTEN's round trip.
    for (const [i, c] of list.entries()) await client.query(`${i === 0 ? `${LONG_WORK_SESSION_SQL}; ` : ''}LISTEN ${quoteIdent(c)}`);
    if (opts.probeVia) {
      let waited: NodeJS.Timeout | undefined;
      const back = new Promise<boolean>((resolve) => {
        probed = () => resolve(true);
        waited = setTimeout(() => resolve(false), heartbeatTimeoutMs);
      });
      await opts.probeVia.query('SELECT pg_notify($1, $2)', [list[0]!, probePayload]);
      // a round trip on this connection hands over what the server sent before it
      await client.query('SELECT 1');
      const heard = await back;
      clearTimeout(waited);
      if (!heard) {
        throw new TableSyncError('UNSUPPORTED', `notifications on channel "${list[0]}" do not reach the listening connection: a test notification sent from another session did not arrive within ${heartbeatTimeoutMs} ms. A connection pooler in transaction or statement mode (PgBouncer's pool_mode = transaction, for one) accepts LISTEN but cannot carry its notifications, so live capture would hear nothing. Connect the source directly, or through a pool in session mode`, { channel: list[0] });
      }
      probed = undefined;
    }
  } catch (e) {
    done = true;
    destroy();
    throw e;
  }

  const beat = () => {
    timer = setTimeout(() => {
      if (done) return;
      let answered = false;
      const deadline = setTimeout(() => { if (!answered) lost(`heartbeat got no answer within ${heartbeatTimeoutMs} ms`); }, heartbeatTimeoutMs);
      client.query('SELECT 1').then(
        () => { answered = true; clearTimeout(deadline); if (!done) beat(); },
        (e: Error) => { answered = true; clearTimeout(deadline); lost(`heartbeat failed: ${e.message}`); },
      );
    }, heartbeatMs);
    timer.unref?.();
  };
  beat();

  return {
    channel,
    sync: () => (done ? Promise.resolve(false) : client.query('SELECT 1').then(
      () => !done,
      (e: Error) => { lost(`listener connection error: ${e.message}`); return false; },
    )),
    close: async () => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      try {
        await client.query(list.length === 1 ? `UNLISTEN ${quoteIdent(list[0]!)}` : 'UNLISTEN *');
        await client.end();
      } catch {
        destroy();
      }
    },
  };
}
