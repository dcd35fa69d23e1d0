import { describe, expect, it } from 'vitest';
import { createWsAuth, loopbackHostHeaders, newAccessToken, readCookie, secretEquals } from '../../core/api/ws-auth';

// The access rules of `tablesync serve`, without a socket (the server itself: integration ws-transport).
describe('serve access: token, cookie, Host and Origin', () => {
  const token = newAccessToken();
  const auth = createWsAuth(token, 4321);

  it('makes a 32-byte base64url token, different each time', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(newAccessToken()).not.toBe(token);
  });

  it('compares the token in constant time, whatever the guess looks like', () => {
    expect(auth.tokenOk(token)).toBe(true);
    // Wrong guesses of every length: none throws (timingSafeEqual would on unequal lengths: both
    // sides are hashed to 32 bytes first, so the length of a guess never changes the path taken).
    for (const guess of [token.slice(0, -1), `${token}x`, token.toUpperCase(), 'a', 'é'.repeat(43), `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`]) {
      expect(auth.tokenOk(guess)).toBe(false);
    }
    expect(auth.tokenOk('')).toBe(false);
    expect(auth.tokenOk(null)).toBe(false);
    expect(auth.tokenOk(undefined)).toBe(false);
    expect(secretEquals('same', 'same')).toBe(true);
    expect(secretEquals('same', 'samf')).toBe(false);
    expect(secretEquals('', '')).toBe(false);
  });

  it('sets a port-scoped HttpOnly SameSite=Strict cookie that is not the token, and reads it back', () => {
    const set = auth.setCookie();
    expect(set).toMatch(/^tablesync_assets_4321=[A-Za-z0-9_-]+; HttpOnly; SameSite=Strict; Path=\/$/);
    const value = set.split(';')[0]!.split('=')[1]!;
    expect(value).not.toContain(token);
    expect(auth.cookieName).toBe('tablesync_assets_4321');
    expect(auth.cookieOk(`tablesync_assets_4321=${value}`)).toBe(true);
    expect(auth.cookieOk(`other=1; tablesync_assets_4321=${value}; theme=dark`)).toBe(true);
    // The token itself, another port's cookie, another token's cookie, a truncated value: refused.
    expect(auth.cookieOk(`tablesync_assets_4321=${token}`)).toBe(false);
    expect(auth.cookieOk(`tablesync_assets_4322=${value}`)).toBe(false);
    expect(auth.cookieOk(createWsAuth(newAccessToken(), 4321).setCookie().split(';')[0])).toBe(false);
    expect(auth.cookieOk(`tablesync_assets_4321=${value.slice(1)}`)).toBe(false);
    expect(auth.cookieOk(undefined)).toBe(false);
    expect(auth.cookieOk('')).toBe(false);
    expect(auth.cookieOk('tablesync_assets_4321')).toBe(false);
  });

  it('parses Cookie headers as browsers send them', () => {
    expect(readCookie('a=1; b=2', 'b')).toBe('2');
    expect(readCookie('a=1;b=x=y', 'b')).toBe('x=y');
    expect(readCookie(' a = 1 ', 'a')).toBe('1');
    expect(readCookie('ab=1', 'a')).toBeUndefined();
    expect(readCookie('a=first; a=second', 'a')).toBe('first');
    expect(readCookie('garbage', 'a')).toBeUndefined();
    expect(readCookie(undefined, 'a')).toBeUndefined();
  });

  it('accepts only this server on the loopback interface as Host', () => {
    expect([...loopbackHostHeaders(4321)]).toEqual(['127.0.0.1:4321', 'localhost:4321', '[::1]:4321']);
    for (const h of ['127.0.0.1:4321', 'localhost:4321', '[::1]:4321']) expect(auth.hostOk(h)).toBe(true);
    // DNS rebinding (a name of the attacker's that resolves to 127.0.0.1), another port, no header.
    for (const h of ['evil.example:4321', '127.0.0.1:4322', '127.0.0.1', '0.0.0.0:4321', '']) expect(auth.hostOk(h)).toBe(false);
    expect(auth.hostOk(undefined)).toBe(false);
  });

  it('accepts a WebSocket only from the page’s own origin', () => {
    expect(auth.originOk('http://127.0.0.1:4321', '127.0.0.1:4321')).toBe(true);
    expect(auth.originOk('http://localhost:4321', 'localhost:4321')).toBe(true);
    // Another page in the same browser, the other loopback spelling, https, a missing Origin.
    expect(auth.originOk('http://evil.example', '127.0.0.1:4321')).toBe(false);
    expect(auth.originOk('http://localhost:4321', '127.0.0.1:4321')).toBe(false);
    expect(auth.originOk('https://127.0.0.1:4321', '127.0.0.1:4321')).toBe(false);
    expect(auth.originOk('null', '127.0.0.1:4321')).toBe(false);
    expect(auth.originOk(undefined, '127.0.0.1:4321')).toBe(false);
    // An Origin that matches a Host this server would never accept.
    expect(auth.originOk('http://evil.example:4321', 'evil.example:4321')).toBe(false);
  });
});
