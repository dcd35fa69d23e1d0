/**
 * A connection that cannot be opened, told so a person can act: which side of the flow (source or
 * target), which connection (a saved connection's name, `$VAR`, or the URL with its password
 * redacted), what the server or the network said, and what to try. Every pool the engine opens
 * for a flow or a saved connection reports its connect failures through here (see createPool's
 * `describe` option), so the message is the same whichever query happened to connect first.
 */
import { TableSyncError } from '../errors';
import { redactSecrets } from './redact';
import type { ConnectionParams } from './url';

export interface ConnectionLabel {
  /** Which end of a flow, when it is one. */
  side?: 'source' | 'target';
  /** How the user named it: `saved connection "Demo source"`, `$SOURCE_DATABASE_URL`, or a redacted URL. */
  name?: string;
}

/** `app@db.example.com:5432/search`: where we tried to go, never with a password. */
export function describeAddress(p: Pick<ConnectionParams, 'user' | 'host' | 'port' | 'database'>): string {
  return `${p.user}@${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}/${p.database}`;
}

/** What to try for a failure, by SQLSTATE or socket error; undefined when we have nothing useful. */
export function connectionHint(e: unknown, p: Pick<ConnectionParams, 'user' | 'host' | 'port' | 'database' | 'sslmode'>): string | undefined {
  const err = e as { code?: unknown; message?: unknown; cause?: unknown } | undefined;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const msg = String(err?.message ?? e ?? '');
  const cause = (err?.cause as { code?: unknown } | undefined)?.code;
  if (code === 'ECONNREFUSED') return `nothing accepts connections at ${p.host}:${p.port}: check that the server is running and that the host and port are right`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the host name "${p.host}" does not resolve: check its spelling, or use an IP address`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `${p.host} cannot be reached from this machine: check the network, a VPN or a firewall`;
  if (code === 'ETIMEDOUT' || /timeout/i.test(msg) || cause === 'ETIMEDOUT') return `no answer from ${p.host}:${p.port} in time: check the host, the port and any firewall, or raise connect_timeout in the URL`;
  if (code === '28P01') return `check the user name "${p.user}" and its password`;
  if (code === '28000') return `the server does not accept user "${p.user}" for database "${p.database}" from this host (its pg_hba.conf), or wants TLS: ask its administrator, or try sslmode=require`;
  if (code === '3D000') return `database "${p.database}" does not exist on ${p.host}:${p.port}: check the database name`;
  if (code === '53300') return 'the server has no free connection slots: close idle sessions or raise max_connections';
  if (code === '57P03') return 'the server is starting up or shutting down: try again in a moment';
  if (/does not support SSL/i.test(msg)) return `the server does not accept TLS: use sslmode=disable or prefer (the URL has sslmode=${p.sslmode})`;
  if (/certificate|self[- ]signed|SSL|TLS/i.test(msg)) return `TLS failed: check sslmode (now ${p.sslmode}); verify-ca/verify-full need the server's certificate to be trusted by this machine`;
  if (code === 'ECONNRESET' || /terminated unexpectedly/i.test(msg)) return `the server closed the connection while it was opened: check that ${p.host}:${p.port} is a PostgreSQL server and that sslmode (${p.sslmode}) suits it`;
  return undefined;
}

/**
 * The TableSyncError for a failed connect: CONNECTION_FAILED whatever the reason (a missing database
 * too, as the connection test reports it), with the SQLSTATE or errno in `detail`.
 * @example throw connectionFailure(e, params, { side: 'source', name: 'saved connection "shop"' })
 */
export function connectionFailure(e: unknown, p: ConnectionParams, label: ConnectionLabel = {}): TableSyncError {
  if (e instanceof TableSyncError && e.detail?.['connection'] !== undefined) return e;
  const reason = redactSecrets(e instanceof Error ? e.message || String((e as { code?: unknown }).code ?? 'unknown error') : String(e), [p.password]);
  // A URL name already says where; a saved name or $VAR gets the address too.
  const who = label.name && /^[a-z]+:\/\//i.test(label.name) ? label.name : label.name ? `${label.name}, ${describeAddress(p)}` : describeAddress(p);
  const target = label.side ? `the ${label.side} (${who})` : who;
  const hint = connectionHint(e, p);
  const raw = (e as { code?: unknown } | undefined)?.code;
  const sqlstate = typeof raw === 'string' && /^[0-9A-Z]{5}$/.test(raw) ? raw : undefined;
  return new TableSyncError('CONNECTION_FAILED', `cannot connect to ${target}: ${reason}${hint ? `. Try: ${hint}` : ''}`, {
    ...(sqlstate ? { sqlstate } : typeof raw === 'string' ? { errno: raw } : {}),
    connection: { ...(label.side ? { side: label.side } : {}), ...(label.name ? { name: label.name } : {}), address: describeAddress(p) },
  }, { cause: e });
}
