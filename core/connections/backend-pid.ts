/**
 * The server process id of a node-postgres connection: what `pg_cancel_backend` and a cancel
 * request need. pg sets `processID` from the server's BackendKeyData message when the connection
 * starts, but leaves it out of its types; this is the one place that reaches into that.
 *
 * @example const pid = backendPid(client); if (pid) await sender.query('SELECT pg_cancel_backend($1)', [pid]);
 */
import type pg from 'pg';

export function backendPid(client: pg.ClientBase): number | undefined {
  const pid = (client as unknown as { processID?: unknown }).processID;
  return typeof pid === 'number' && pid > 0 ? pid : undefined;
}
