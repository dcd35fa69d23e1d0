/**
 * Connection URLs: parse, validate, redact. A URL is the one way a connection is described to the
 * engine (the app stores its parts and a secret; the CLI reads a URL from a flow or the environment).
 */
import type { ConnectionOptions } from 'node:tls';
import { TableSyncError } from '../errors';
import { REDACTED, redactSecrets } from './redact';

import { SSL_MODES, type SslMode } from '../api/names';

export { SSL_MODES, type SslMode };

export interface ConnectionParams {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  sslmode: SslMode;
  /** Other query parameters we pass through (application_name, connect_timeout...). */
  options: Record<string, string>;
}

/**
 * Parse `postgres://user:pass@host:5432/db?sslmode=require`. Throws INVALID_INPUT naming what is wrong.
 * @example parseConnectionUrl('postgresql://app@localhost/search').port // 5432
 */
export function parseConnectionUrl(raw: string): ConnectionParams {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    // Never echo the text: it may be a whole DSN with its password, or an environment variable's value.
    const dsn = /(^|\s)(host|dbname|user|password|port)\s*=/.test(raw);
    throw new TableSyncError('INVALID_INPUT', dsn
      ? 'not a connection URL: this looks like a libpq keyword/value string (host=… dbname=…); write it as a URL: postgres://user:password@host:port/database'
      : 'not a connection URL (expected postgres://user:password@host:port/database)');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new TableSyncError('INVALID_INPUT', `connection URL must start with postgres:// or postgresql://, not ${u.protocol}//`);
  }
  const host = decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new TableSyncError('INVALID_INPUT', 'connection URL has no host');
  const port = u.port ? Number(u.port) : 5432;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TableSyncError('INVALID_INPUT', `connection URL has an invalid port: ${u.port}`);
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
  const user = decodeURIComponent(u.username) || 'postgres';
  const options: Record<string, string> = {};
  let sslmode: SslMode = 'prefer';
  // libpq reads `?password=` as the connection's password: so do we, so a password given that way
  // is stored as a secret, logs in, and is never kept among the plain options.
  let queryPassword: string | undefined;
  for (const [k, v] of u.searchParams) {
    if (k === 'password') {
      queryPassword = v;
    } else if (k === 'sslmode') {
      if (!(SSL_MODES as readonly string[]).includes(v)) {
        throw new TableSyncError('INVALID_INPUT', `unknown sslmode "${v}" (one of ${SSL_MODES.join(', ')})`);
      }
      sslmode = v as SslMode;
    } else {
      options[k] = v;
    }
  }
  const password = u.password ? decodeURIComponent(u.password) : queryPassword !== undefined && queryPassword !== '' ? queryPassword : undefined;
  return { host, port, database, user, ...(password !== undefined ? { password } : {}), sslmode, options };
}

/** Build a URL from parts (the app's connection form). The password is included only when given. */
export function buildConnectionUrl(p: Omit<ConnectionParams, 'options'> & { options?: Record<string, string> }): string {
  const auth = p.password !== undefined && p.password !== ''
    ? `${encodeURIComponent(p.user)}:${encodeURIComponent(p.password)}`
    : encodeURIComponent(p.user);
  const host = p.host.includes(':') ? `[${p.host}]` : p.host;
  const q = new URLSearchParams({ ...(p.options ?? {}), ...(p.sslmode !== 'prefer' ? { sslmode: p.sslmode } : {}) }).toString();
  return `postgres://${auth}@${host}:${p.port}/${encodeURIComponent(p.database)}${q ? `?${q}` : ''}`;
}

/** The URL with its password replaced (user info and `?password=`), for lists, logs and error messages. */
export function redactUrl(raw: string): string {
  return redactSecrets(raw);
}

/**
 * pg's `ssl` option for an sslmode. `prefer` and `allow` try without TLS here (node-postgres has no
 * opportunistic TLS); `require` encrypts without verifying; `verify-ca`/`verify-full` verify.
 */
export function sslOptionFor(mode: SslMode, host: string): false | ConnectionOptions {
  switch (mode) {
    case 'disable':
    case 'allow':
    case 'prefer':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true, servername: host };
  }
}

/**
 * A URL's password taken out: the URL with `***` in its place (user info or `?password=`), and the
 * password itself. A URL without one comes back as it is. Text that is not a URL is redacted
 * (nothing to keep: it cannot connect anyway).
 * @example splitPassword('postgres://app:pw@db/x') // { url: 'postgres://app:***@db/x', password: 'pw' }
 */
export function splitPassword(raw: string): { url: string; password?: string } {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return { url: redactSecrets(raw) };
  }
  let password: string | undefined;
  if (u.password) {
    password = decodeURIComponent(u.password);
    u.password = REDACTED;
  }
  const q = u.searchParams.get('password');
  if (q !== null) {
    password ??= q;
    u.searchParams.set('password', REDACTED);
  }
  if (password === undefined || password === REDACTED) return { url: raw };
  return { url: u.toString().replace(/%2A%2A%2A/g, REDACTED), password };
}

/** The URL with `password` where `***` stands (see splitPassword). */
export function fillPassword(raw: string, password: string): string {
  const u = new URL(raw.trim());
  if (u.password === REDACTED || u.password === '%2A%2A%2A') u.password = encodeURIComponent(password);
  if (u.searchParams.get('password') === REDACTED) u.searchParams.set('password', password);
  return u.toString();
}
