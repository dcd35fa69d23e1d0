/**
 * The `app://tablesync/…` scheme that serves the built renderer (dist/renderer) to the window, with
 * a strict CSP. The serving rule (containment, MIME types, SPA fallback, CSP) is the one the browser
 * mode uses: core/api/static-files.ts. Here only the app:// origin check; main.ts wires it to
 * protocol.handle.
 */
import { rendererCsp, resolveStatic, type StaticHit } from '../core/api/static-files';
import { APP_ORIGIN } from './channels';

export const APP_CSP = rendererCsp();

/** What an app:// URL names inside `root`, or null when it is another host or not a URL. */
export function resolveAppUrl(url: string, root: string): StaticHit | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (`${u.protocol}//${u.host}` !== APP_ORIGIN) return null;
  return resolveStatic(root, u.pathname);
}

/** Navigation inside the window is allowed only within the app itself. */
export function isAppUrl(url: string): boolean {
  return url === APP_ORIGIN || url.startsWith(`${APP_ORIGIN}/`);
}
