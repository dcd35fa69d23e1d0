/**
 * One way to resolve a connection reference (`{ url }`, `{ env }`, `{ saved }`) to a URL, for flows,
 * sets and everything else that names a connection. The rules (which wins, what an error says) live
 * here once; what differs between the app and the CLI is only where saved connections come from,
 * and that is passed in: the app's Engine looks them up in its settings and OS-backed secret store,
 * the CLI in the data folder's files (core/app/saved-lookup.ts).
 *
 * @example
 * const resolver = connectionResolver({ env: process.env, saved: engineLookup });
 * const { url } = await resolver.resolveConnection({ env: 'SOURCE_DATABASE_URL' }, 'source.connection');
 */
import { TableSyncError } from '../errors';
import { parseConnectionUrl } from '../connections/url';
import type { ConnectionRef } from './schema';

/** A resolved connection: the URL with its password (for pg only), and what else the engine needs. */
export interface ResolvedConnection {
  url: string;
  /** Pool cap the server needs (1 for a one-session server such as PGlite). */
  poolMax?: number;
  /** The saved connection's id, when the reference was `{ saved }`. */
  connectionId?: string;
}

/** The one interface every caller resolves references through. */
export interface ConnectionResolver {
  /** `where` names the reference in errors, e.g. `source.connection` or `set "shop" target.connection`. */
  resolveConnection(ref: ConnectionRef, where?: string): Promise<ResolvedConnection>;
}

/** Where saved connections come from: by id or name; undefined when there is none of that name. */
export type SavedConnectionSource = (nameOrId: string) => Promise<ResolvedConnection | undefined>;

export interface ConnectionResolverOptions {
  env?: NodeJS.ProcessEnv;
  /** Absent: `{ saved }` references are refused (saved connections exist only in the app's data folder). */
  saved?: SavedConnectionSource;
}

/** The resolver: `{url}` as given, `{env}` from `env`, `{saved}` through `saved`; every URL is checked. */
export function connectionResolver(opts: ConnectionResolverOptions = {}): ConnectionResolver {
  const env = opts.env ?? process.env;
  return {
    async resolveConnection(ref, where = 'connection') {
      let out: ResolvedConnection;
      if ('url' in ref) out = { url: ref.url };
      else if ('env' in ref) {
        const url = env[ref.env];
        if (!url) throw new TableSyncError('INVALID_INPUT', `${where}: environment variable ${ref.env} is not set (it should hold a postgres:// URL)`, { env: ref.env });
        out = { url };
      } else {
        const found = opts.saved ? await opts.saved(ref.saved) : undefined;
        if (!found) {
          throw new TableSyncError('NOT_FOUND', `${where}: no saved connection named "${ref.saved}"${opts.saved ? '' : ' (saved connections exist only in the app)'}`, { saved: ref.saved });
        }
        out = found;
      }
      try {
        parseConnectionUrl(out.url);
      } catch (e) {
        // Name the variable, never its value (it may be anything: PATH, a DSN with a password).
        const what = 'env' in ref ? `environment variable ${ref.env} does not hold a usable connection URL` : 'saved' in ref ? `saved connection "${ref.saved}"` : 'url';
        throw new TableSyncError('INVALID_INPUT', `${where}: ${what}: ${(e as Error).message}`, { where, ...('env' in ref ? { env: ref.env } : {}) });
      }
      return out;
    },
  };
}
