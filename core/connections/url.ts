/**
 * Connection URLs: parse, validate, redact. A URL is the one way a connection is described to the
 * engine (the app stores its parts and a secret; the CLI reads a URL from a flow or the environment).
 */
import type { ConnectionOptions } from 'node:tls';
import { TableSyncError } from '../errors';

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
    throw new TableSyncError('INVALID_INPUT', `not a connection URL: ${redactUrl(raw)} (expected postgres://user:password@host:port/database)`);
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
  for (const [k, v] of u.searchParams) {
    if (k === 'sslmode') {
      if (!(SSL_MODES as readonly string[]).includes(v)) {
        throw new TableSyncError('INVALID_INPUT', `unknown sslmode "${v}" (one of ${SSL_MODES.join(', ')})`);
      }
      sslmode = v as SslMode;
    } else {
      options[k] = v;
    }
  }
  const password = u.password ? decodeURIComponent(u.password) : undefined;
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

/** The URL with its password replaced, for logs and error messages. */
export function redactUrl(raw: string): string {
  return raw.replace(/(postgres(?:ql)?:\/\/[^:/@]*:)([^@]*)@/i, '$1***@');
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
