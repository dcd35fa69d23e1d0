/**
 * Saved connections: parts in settings.json, the password in the SecretStore, a pool per
 * connection. The one place that turns a connection id into a URL with its password; that URL goes
 * to pg and nowhere else (never to a UI, never into a log unredacted).
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { ConnectionDraft, ConnectionTestResult, SavedConnection } from '../api/contract';
import { buildConnectionUrl, parseConnectionUrl, type ConnectionParams } from '../connections/url';
import { createPool } from '../connections/pool';
import { testConnection } from '../connections/test-connection';
import { TableSyncError, toTableSyncError } from '../errors';
import type { SecretStore } from '../settings/secret-store';
import type { SettingsStore, StoredConnection } from '../settings/settings-store';

export interface SaveConnectionInput {
  id?: string;
  name: string;
  connection: ConnectionDraft;
  /** Internal (demo): mark as demo, cap the pool. */
  demo?: boolean;
  poolMax?: number;
}

export function toSavedConnection(c: StoredConnection): SavedConnection {
  return {
    id: c.id, name: c.name, host: c.host, port: c.port, database: c.database, user: c.user,
    sslmode: c.sslmode, options: c.options, hasPassword: c.hasPassword, demo: c.demo,
  };
}

export class ConnectionService {
  private readonly pools = new Map<string, { url: string; pool: pg.Pool }>();

  constructor(private readonly settings: SettingsStore, private readonly secrets: SecretStore) {}

  list(): SavedConnection[] {
    return this.settings.listConnections().map(toSavedConnection);
  }

  get(id: string): StoredConnection {
    const c = this.settings.getConnection(id);
    if (!c) throw new TableSyncError('NOT_FOUND', `no saved connection with id "${id}"`, { connectionId: id });
    return c;
  }

  async save(input: SaveConnectionInput): Promise<SavedConnection> {
    const existing = input.id !== undefined ? this.settings.getConnection(input.id) : undefined;
    if (input.id !== undefined && !existing && !input.demo) {
      throw new TableSyncError('NOT_FOUND', `no saved connection with id "${input.id}"`, { connectionId: input.id });
    }
    const clash = this.settings.listConnections().find((c) => c.name === input.name && c.id !== input.id);
    if (clash) throw new TableSyncError('INVALID_INPUT', `a connection named "${input.name}" already exists`, { name: input.name });

    const { params, password } = draftParams(input.connection);
    const id = existing?.id ?? input.id ?? randomUUID();
    // Password: a new one replaces; `clearPassword` removes; otherwise the stored one stays.
    let hasPassword = existing?.hasPassword ?? false;
    if (password !== undefined && password !== '') {
      await this.secrets.set(id, password);
      hasPassword = true;
    } else if ('clearPassword' in input.connection && input.connection.clearPassword) {
      await this.secrets.delete(id);
      hasPassword = false;
    }
    // A server that serves one session at a time (PGlite over a socket) needs a pool of one, or a
    // second connection is refused mid-browse; the user should not have to know: detect it.
    const poolMax = input.poolMax ?? existing?.poolMax ?? ((await isSingleSessionServer(buildConnectionUrl({ ...params, ...(password ? { password } : {}) }))) ? 1 : undefined);
    const stored: StoredConnection = {
      id,
      name: input.name,
      host: params.host,
      port: params.port,
      database: params.database,
      user: params.user,
      sslmode: params.sslmode,
      options: params.options,
      hasPassword,
      demo: input.demo ?? existing?.demo ?? false,
      ...(poolMax ? { poolMax } : {}),
      updatedAt: new Date().toISOString(),
    };
    this.settings.putConnection(stored);
    await this.closePool(id);
    return toSavedConnection(stored);
  }

  async remove(id: string): Promise<boolean> {
    const removed = this.settings.removeConnection(id);
    await this.secrets.delete(id);
    await this.closePool(id);
    return removed;
  }

  /** The URL with the password: only for pg. */
  async url(id: string): Promise<string> {
    const c = this.get(id);
    const password = c.hasPassword ? await this.secrets.get(id) : undefined;
    return buildConnectionUrl({ host: c.host, port: c.port, database: c.database, user: c.user, sslmode: c.sslmode, options: c.options, ...(password !== undefined ? { password } : {}) });
  }

  /** The shared pool of a saved connection (recreated when the connection changed). */
  async pool(id: string): Promise<{ url: string; pool: pg.Pool }> {
    const url = await this.url(id);
    const cur = this.pools.get(id);
    if (cur && cur.url === url) return cur;
    if (cur) void cur.pool.end().catch(() => {});
    const c = this.get(id);
    const entry = { url, pool: createPool(url, { max: c.poolMax ?? 4, applicationName: 'tablesync', label: { name: `saved connection "${c.name}"` } }) };
    this.pools.set(id, entry);
    return entry;
  }

  /**
   * Run `fn` with a pool on a saved connection. A server that takes one session at a time (poolMax
   * 1, the demo's PGlite) gets a pool for this call only, so no idle connection of ours blocks the
   * next user of that server (a plan, a watch).
   */
  async use<T>(id: string, fn: (pool: pg.Pool, url: string) => Promise<T>): Promise<T> {
    const c = this.get(id);
    if (c.poolMax !== 1) {
      const { pool, url } = await this.pool(id);
      return fn(pool, url);
    }
    const url = await this.url(id);
    const pool = createPool(url, { max: 1, applicationName: 'tablesync', label: { name: `saved connection "${c.name}"` } });
    // PGlite's socket turns a second session away by closing it, and how pg words that depends on
    // timing ("Connection terminated unexpectedly", EPIPE, ECONNRESET...). So: failing to OPEN the
    // session means busy, whatever the words, unless nothing listens at all.
    const busy = (e: unknown): TableSyncError => {
      const err = toTableSyncError(e);
      if (err.detail?.['errno'] === 'ECONNREFUSED' || err.detail?.['errno'] === 'ENOTFOUND') return err;
      return new TableSyncError('CONNECTION_FAILED', `${c.name} serves one connection at a time, and a running watch or apply is using it: stop it to browse this database (the server said: ${err.message})`, err.detail, { cause: e });
    };
    try {
      try {
        await warmSingleSession(pool);
      } catch (e) {
        throw busy(e);
      }
      try {
        return await fn(pool, url);
      } catch (e) {
        const err = toTableSyncError(e);
        // Taken away mid-call (the session was handed to someone else): the same cause.
        if (err.code === 'CONNECTION_FAILED' || /too many connections|connection terminated unexpectedly/i.test(err.message)) throw busy(e);
        throw err;
      }
    } finally {
      await pool.end().catch(() => {});
    }
  }

  /** Test a saved connection or a draft; a failure is an answer (ok:false), not an error. */
  async test(input: { id?: string; connection?: ConnectionDraft }): Promise<ConnectionTestResult> {
    let url: string;
    try {
      if (input.connection) {
        const { params, password } = draftParams(input.connection);
        let pw = password;
        if ((pw === undefined || pw === '') && input.id !== undefined && !('clearPassword' in input.connection && input.connection.clearPassword)) {
          const c = this.settings.getConnection(input.id);
          if (c?.hasPassword) pw = await this.secrets.get(input.id);
        }
        url = buildConnectionUrl({ ...params, ...(pw ? { password: pw } : {}) });
      } else if (input.id !== undefined) {
        url = await this.url(input.id);
      } else {
        throw new TableSyncError('INVALID_INPUT', 'connections.test needs an id or a connection');
      }
    } catch (e) {
      const err = toTableSyncError(e);
      if (err.code === 'NOT_FOUND' || err.code === 'INVALID_INPUT') throw err;
      return { ok: false, error: { code: err.code, message: err.message } };
    }
    const pool = createPool(url, { max: 1, applicationName: 'tablesync test' });
    const started = performance.now();
    try {
      const r = await testConnection(pool);
      return {
        ok: true,
        serverVersion: r.serverVersion,
        latencyMs: Math.round(performance.now() - started),
        pgvector: r.pgvector.installed ? 'installed' : r.pgvector.available ? 'available' : 'missing',
      };
    } catch (e) {
      const err = toTableSyncError(e);
      return { ok: false, latencyMs: Math.round(performance.now() - started), error: { code: err.code, message: err.message } };
    } finally {
      await pool.end().catch(() => {});
    }
  }

  async closePool(id: string): Promise<void> {
    const cur = this.pools.get(id);
    this.pools.delete(id);
    await cur?.pool.end().catch(() => {});
  }

  async closeAll(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.pool.end().catch(() => {})));
  }
}

function draftParams(d: ConnectionDraft): { params: ConnectionParams; password?: string } {
  if ('url' in d) {
    const params = parseConnectionUrl(d.url);
    const { password, ...rest } = params;
    return { params: rest, ...(password !== undefined ? { password } : {}) };
  }
  // A `password` typed among the extra options is the password (as `?password=` in a URL is), never a plain option.
  const { password: optionPassword, ...options } = d.options ?? {};
  const password = d.password !== undefined && d.password !== '' ? d.password : optionPassword;
  return {
    params: { host: d.host, port: d.port, database: d.database, user: d.user, sslmode: d.sslmode, options },
    ...(password !== undefined ? { password } : {}),
  };
}

/**
 * A one-session server (pglite-socket) refuses a connection while it is still tearing down the
 * previous one, which the previous user closed a moment ago. Connect with a short retry, and leave
 * the connection idle in the pool for the work that follows.
 */
export async function warmSingleSession(pool: pg.Pool, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const c = await pool.connect();
      c.release();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, Math.min(50 * attempt, 250)));
    }
  }
}

/**
 * Best effort, at save time: does this server serve one session at a time? PGlite says so in
 * version(). Unreachable or busy servers answer "no" (the default pool), and saving never fails on it.
 */
async function isSingleSessionServer(url: string): Promise<boolean> {
  const pool = createPool(url, { max: 1, applicationName: 'tablesync probe' });
  try {
    const r = await Promise.race([
      pool.query<{ v: string }>('SELECT version() AS v'),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('probe timeout')), 3000)),
    ]);
    return /PGlite/i.test(r.rows[0]?.v ?? '');
  } catch {
    return false;
  } finally {
    await pool.end().catch(() => {});
  }
}
