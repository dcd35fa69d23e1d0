/**
 * The CLI's ConnectionResolver (core/flow/resolver.ts): `{ "saved": "name" }` references come from
 * the app's data folder (settings.json + the 0600 secrets file that `tablesync serve` writes), so a
 * flow or set saved in the app runs headless on the same machine.
 *
 * Passwords the desktop app stored are encrypted by the OS for that app alone; the CLI cannot read
 * them and says so instead of failing later with an authentication error.
 *
 * @example
 * const ctx = await openFlow(flow, dataFolderResolver({ env: process.env }));
 */
import { join } from 'node:path';
import { buildConnectionUrl } from '../connections/url';
import { TableSyncError } from '../errors';
import { connectionResolver, type ConnectionResolver } from '../flow/resolver';
import { defaultDataDir } from '../settings/data-dir';
import { FileSecretStore } from '../settings/secret-store';
import { SettingsStore } from '../settings/settings-store';

export function dataFolderResolver(opts: { dataDir?: string; env?: NodeJS.ProcessEnv } = {}): ConnectionResolver {
  const dataDir = opts.dataDir ?? defaultDataDir();
  let stores: { settings: SettingsStore; secrets: FileSecretStore } | undefined;
  return connectionResolver({
    env: opts.env ?? process.env,
    saved: async (name) => {
      stores ??= { settings: new SettingsStore(dataDir), secrets: new FileSecretStore(join(dataDir, 'secrets.json')) };
      const c = stores.settings.findConnection(name);
      if (!c) return undefined; // the resolver reports the missing name
      let password: string | undefined;
      if (c.hasPassword) {
        password = await stores.secrets.get(c.id);
        if (password === undefined) {
          throw new TableSyncError('INVALID_INPUT', `saved connection "${c.name}" has its password in the desktop app's OS-encrypted store, which the CLI cannot read: give this connection as { "env": "VAR" } or { "url": ... } in the file`, { saved: name });
        }
      }
      return {
        url: buildConnectionUrl({ host: c.host, port: c.port, database: c.database, user: c.user, sslmode: c.sslmode, options: c.options, ...(password !== undefined ? { password } : {}) }),
        connectionId: c.id,
        ...(c.poolMax ? { poolMax: c.poolMax } : {}),
      };
    },
  });
}
