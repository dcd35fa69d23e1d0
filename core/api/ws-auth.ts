/**
 * Who may talk to `tablesync serve` (core/api/transport.ws.ts): the access token, the static-asset
 * cookie, and the Host / Origin checks. Pure functions over header strings, no sockets, so each rule
 * is unit-tested on its own (test/unit/ws-auth.test.ts).
 *
 * - The token (32 random bytes, base64url) is compared in constant time: both sides are hashed to a
 *   fixed 32 bytes first, so neither the content nor the length of a wrong guess changes the timing.
 * - The cookie holds an HMAC of the token, not the token: it admits static files only (a browser
 *   cannot put the token on the relative URLs of scripts and styles), and is useless for the
 *   WebSocket if another local server sees it (cookies are not port-scoped). Its name carries the
 *   port; HttpOnly, SameSite=Strict, Path=/.
 * - Host must name this server on the loopback interface (no DNS rebinding); a WebSocket upgrade's
 *   Origin must be exactly this page's own origin (another web page cannot forge it).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export function newAccessToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time equality of two secrets of any length. */
export function secretEquals(given: string | null | undefined, expected: string): boolean {
  if (given === null || given === undefined || given === '') return false;
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The value of cookie `name` in a Cookie header (first occurrence), or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function loopbackHostHeaders(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

export interface WsAuth {
  readonly token: string;
  readonly cookieName: string;
  tokenOk(given: string | null | undefined): boolean;
  /** The Cookie header admits static files. */
  cookieOk(cookieHeader: string | undefined): boolean;
  /** The Set-Cookie value sent with a page loaded with the token. */
  setCookie(): string;
  hostOk(hostHeader: string | undefined): boolean;
  /** A WebSocket upgrade's Origin: exactly `http://` + the (already checked) Host. */
  originOk(originHeader: string | undefined, hostHeader: string | undefined): boolean;
}

export function createWsAuth(token: string, port: number): WsAuth {
  const cookieName = `tablesync_assets_${port}`;
  const cookieValue = createHmac('sha256', token).update('static assets').digest('base64url');
  const hosts = loopbackHostHeaders(port);
  return {
    token,
    cookieName,
    tokenOk: (given) => secretEquals(given, token),
    cookieOk: (header) => secretEquals(readCookie(header, cookieName), cookieValue),
    setCookie: () => `${cookieName}=${cookieValue}; HttpOnly; SameSite=Strict; Path=/`,
    hostOk: (host) => host !== undefined && hosts.has(host),
    originOk: (origin, host) => host !== undefined && hosts.has(host) && origin === `http://${host}`,
  };
}
