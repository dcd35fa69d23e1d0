/**
 * Where TableSync keeps its settings, secrets and the demo databases. `$TABLESYNC_HOME` wins (tests,
 * portable installs); otherwise the platform's per-user config folder, the same one Electron's
 * `app.getPath('userData')` gives for the product name "TableSync", so the desktop app and
 * `npx tablesync serve` share saved connections and flows.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export const PRODUCT_NAME = 'TableSync';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env['TABLESYNC_HOME']) return env['TABLESYNC_HOME'];
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', PRODUCT_NAME);
  if (platform === 'win32') return join(env['APPDATA'] ?? join(homedir(), 'AppData', 'Roaming'), PRODUCT_NAME);
  return join(env['XDG_CONFIG_HOME'] ?? join(homedir(), '.config'), PRODUCT_NAME);
}
