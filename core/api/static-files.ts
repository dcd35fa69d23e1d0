/**
 * Serving the built renderer (dist/renderer): one rule for both shells, the browser mode's HTTP
 * server (core/api/transport.ws.ts) and Electron's `app://` scheme (electron/app-protocol.ts).
 * Node-only (fs, path); no HTTP or Electron types, so each shell writes its own response.
 *
 * - Containment: a URL path is decoded once, joined under the root and normalized; a result outside
 *   the root is refused, and so is a file whose real path (symlinks resolved) leaves the root.
 * - SPA fallback: a path with no extension that names no file is one of the app's own routes and
 *   gets index.html; a missing file with an extension is a 404.
 * - MIME types by extension; anything unknown is application/octet-stream (with nosniff).
 * - The CSP: the same strict policy for both; only `connect-src` differs (the browser page needs its
 *   WebSocket).
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';

export const STATIC_MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.map': 'application/json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf', '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8', '.webp': 'image/webp', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif',
};

export function mimeTypeOf(file: string): string {
  return STATIC_MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** The renderer's Content-Security-Policy; `connectSrc` is added to `'self'` (e.g. the ws:// origin). */
export function rendererCsp(connectSrc: readonly string[] = []): string {
  return [
    "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:",
    "font-src 'self' data:", ["connect-src 'self'", ...connectSrc].join(' '), "worker-src 'self' blob:", "object-src 'none'",
    "base-uri 'none'", "frame-src 'none'", "frame-ancestors 'none'", "form-action 'none'",
  ].join('; ');
}

/** Headers every static response carries, whatever the shell. */
export function staticSecurityHeaders(connectSrc: readonly string[] = []): Record<string, string> {
  return {
    'content-security-policy': rendererCsp(connectSrc),
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  };
}

export type StaticHit =
  | { kind: 'file'; file: string; contentType: string; isHtml: boolean; /** true when index.html stands in for an app route */ fallback: boolean }
  | { kind: 'forbidden'; reason: string }
  | { kind: 'not-found' };

/**
 * What a URL path (still percent-encoded, as in `URL.pathname`) names under `root`. Synchronous: a
 * few stat calls on a local folder.
 */
export function resolveStatic(root: string, pathname: string): StaticHit {
  const base = resolve(root);
  const inside = (p: string) => p === base || p.startsWith(base.endsWith(sep) ? base : base + sep);
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return { kind: 'forbidden', reason: 'malformed percent-encoding' };
  }
  if (rel.includes('\0')) return { kind: 'forbidden', reason: 'NUL in path' };
  if (rel === '' || rel.endsWith('/')) rel += 'index.html';
  const file = normalize(join(base, rel));
  if (!inside(file) || file === base) return { kind: 'forbidden', reason: 'outside the served folder' };

  let real: string | undefined;
  try {
    if (existsSync(file) && statSync(file).isFile()) real = realpathSync(file);
  } catch {
    real = undefined;
  }
  if (real !== undefined) {
    let realBase = base;
    try {
      realBase = realpathSync(base);
    } catch { /* root vanished: compare against the given path */ }
    if (!(real === realBase || real.startsWith(realBase.endsWith(sep) ? realBase : realBase + sep))) {
      return { kind: 'forbidden', reason: 'a link out of the served folder' };
    }
    return { kind: 'file', file, contentType: mimeTypeOf(file), isHtml: extname(file).toLowerCase() === '.html', fallback: false };
  }
  // Unknown paths without an extension are the single-page app's own routes.
  if (!extname(rel)) {
    const index = join(base, 'index.html');
    if (existsSync(index)) return { kind: 'file', file: index, contentType: STATIC_MIME['.html']!, isHtml: true, fallback: true };
  }
  return { kind: 'not-found' };
}
