import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mimeTypeOf, rendererCsp, resolveStatic, staticSecurityHeaders } from '../../core/api/static-files';

// The one serving rule behind `tablesync serve` and Electron's app:// scheme, on a real folder.
describe('static files of the built renderer', () => {
  const top = mkdtempSync(join(tmpdir(), 'ts-static-'));
  const root = join(top, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html>');
  writeFileSync(join(root, 'assets', 'app-1.js'), '//');
  writeFileSync(join(root, 'assets', 'app-1.css'), '');
  writeFileSync(join(top, 'secret.txt'), 'not for the browser');
  mkdirSync(join(top, 'outside'));
  writeFileSync(join(top, 'outside', 'x.js'), '//');
  symlinkSync(join(top, 'secret.txt'), join(root, 'leak.txt'));
  symlinkSync(join(top, 'outside'), join(root, 'linkdir'));
  symlinkSync(join(root, 'assets', 'app-1.js'), join(root, 'alias.js'));
  afterAll(() => rmSync(top, { recursive: true, force: true }));

  it('serves files inside the folder with their MIME type', () => {
    expect(resolveStatic(root, '/')).toMatchObject({ kind: 'file', file: join(root, 'index.html'), contentType: 'text/html; charset=utf-8', isHtml: true, fallback: false });
    expect(resolveStatic(root, '/assets/app-1.js')).toMatchObject({ kind: 'file', contentType: 'text/javascript; charset=utf-8', isHtml: false });
    expect(resolveStatic(root, '/assets/app-1.css')).toMatchObject({ kind: 'file', contentType: 'text/css; charset=utf-8' });
    expect(mimeTypeOf('a/b.WASM')).toBe('application/wasm');
    expect(mimeTypeOf('a/b.svg')).toBe('image/svg+xml');
    expect(mimeTypeOf('a/b.woff2')).toBe('font/woff2');
    expect(mimeTypeOf('a/b.unknownext')).toBe('application/octet-stream');
    expect(mimeTypeOf('a/noext')).toBe('application/octet-stream');
  });

  it('refuses every way out of the folder', () => {
    // Raw dots (a URL parser would fold these; a hand-made path is refused).
    expect(resolveStatic(root, '/../secret.txt')).toMatchObject({ kind: 'forbidden' });
    expect(resolveStatic(root, '/assets/../../secret.txt')).toMatchObject({ kind: 'forbidden' });
    // Encoded dots and slashes are decoded once, then checked.
    expect(resolveStatic(root, '/%2e%2e/secret.txt')).toMatchObject({ kind: 'forbidden' });
    expect(resolveStatic(root, '/%2E%2E%2Fsecret.txt')).toMatchObject({ kind: 'forbidden' });
    expect(resolveStatic(root, '/..%2f..%2fetc%2fpasswd')).toMatchObject({ kind: 'forbidden' });
    // Encoded twice: decoded once it is a literal "%2e%2e" name inside the folder, which does not exist.
    expect(resolveStatic(root, '/%252e%252e/secret.txt')).toEqual({ kind: 'not-found' });
    // An absolute path is joined under the root, never taken as is.
    expect(resolveStatic(root, `/${join(top, 'secret.txt')}`)).toEqual({ kind: 'not-found' });
    expect(resolveStatic(root, '//etc/passwd')).not.toMatchObject({ kind: 'file', file: '/etc/passwd' });
    // A sibling folder whose name starts like the root's.
    mkdirSync(`${root}-evil`, { recursive: true });
    writeFileSync(`${root}-evil/x.js`, '//');
    expect(resolveStatic(root, '/../renderer-evil/x.js')).toMatchObject({ kind: 'forbidden' });
    // Symlinks out of the folder, to a file or through a folder; a link that stays inside is fine.
    expect(resolveStatic(root, '/leak.txt')).toMatchObject({ kind: 'forbidden' });
    expect(resolveStatic(root, '/linkdir/x.js')).toMatchObject({ kind: 'forbidden' });
    expect(resolveStatic(root, '/alias.js')).toMatchObject({ kind: 'file', contentType: expect.stringMatching(/javascript/) });
    // Malformed encoding and NUL bytes.
    expect(resolveStatic(root, '/%E0%A4%A')).toMatchObject({ kind: 'forbidden' });
    expect(resolveStatic(root, '/index.html%00.js')).toMatchObject({ kind: 'forbidden' });
  });

  it('answers an app route with the page, a missing asset with not-found', () => {
    expect(resolveStatic(root, '/flows/orders/edit')).toMatchObject({ kind: 'file', file: join(root, 'index.html'), isHtml: true, fallback: true });
    expect(resolveStatic(root, '/assets/app-2.js')).toEqual({ kind: 'not-found' });
    expect(resolveStatic(root, '/favicon.ico')).toEqual({ kind: 'not-found' });
    // A folder is not a file: without an extension it is a route too.
    expect(resolveStatic(root, '/assets')).toMatchObject({ kind: 'file', fallback: true });
  });

  it('sends a strict CSP, with the extra connect-src only where asked', () => {
    const csp = rendererCsp();
    for (const d of ["default-src 'self'", "script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'none'"]) expect(csp).toContain(d);
    expect(csp).not.toMatch(/unsafe-eval/);
    expect(csp).toContain("connect-src 'self';");
    expect(rendererCsp(['ws://127.0.0.1:5000'])).toContain("connect-src 'self' ws://127.0.0.1:5000;");
    const h = staticSecurityHeaders();
    expect(h['content-security-policy']).toBe(csp);
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['referrer-policy']).toBe('no-referrer');
  });
});
