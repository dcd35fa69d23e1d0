/**
 * For the CLI: resolve a flow's `{ "saved": "name" }` connection references from the app's data
 * folder (settings.json + the 0600 secrets file that `tablesync serve` writes), so a flow saved in
 * the app runs headless on the same machine. Pass the result as `lookupSaved` to
 * connectionResolver (core/flow/load.ts).
 *
 * Passwords the desktop app stored are encrypted by the OS for that app alone; the CLI cannot read
 * them and says so instead of failing later with an authentication error.
 *
 * @example
 * const lookupSaved = await savedConnectionLookup(flow);
 * const ctx = await openFlow(flow, connectionResolver({ env: process.env, lookupSaved }));
 */
import { join } from 'node:path';
import { buildConnectionUrl } from '../connections/url';
import { TableSyncError } from '../errors';
import type { Flow } from '../flow/schema';
import { defaultDataDir } from '../settings/data-dir';
import { FileSecretStore } from '../settings/secret-store';
import { SettingsStore } from '../settings/settings-store';

export async function savedConnectionLookup(flow: Flow, opts: { dataDir?: string } = {}): Promise<(name: string) => string | undefined> {
  const dataDir = opts.dataDir ?? defaultDataDir();
  const settings = new SettingsStore(dataDir);
  const secrets = new FileSecretStore(join(dataDir, 'secrets.json'));
  const urls = new Map<string, string>();
  for (const ref of [flow.source.connection, flow.target.connection]) {
    if (!('saved' in ref) || urls.has(ref.saved)) continue;
    const c = settings.findConnection(ref.saved);
    if (!c) continue; // connectionResolver reports the missing name
    let password: string | undefined;
    if (c.hasPassword) {
      password = await secrets.get(c.id);
      if (password === undefined) {
        throw new TableSyncError('INVALID_INPUT', `saved connection "${c.name}" has its password in the desktop app's OS-encrypted store, which the CLI cannot read: give this connection as { "env": "VAR" } or { "url": ... } in the flow file`, { saved: ref.saved });
      }
    }
    urls.set(ref.saved, buildConnectionUrl({ host: c.host, port: c.port, database: c.database, user: c.user, sslmode: c.sslmode, options: c.options, ...(password !== undefined ? { password } : {}) }));
  }
  return (name) => urls.get(name);
}
