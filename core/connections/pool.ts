/**
 * One pg Pool per connection. Values come back as PostgreSQL's own text, never parsed into JS types:
 * pg's default parsers turn timestamptz into a Date (dropping microseconds), bigint into a lossy
 * number and cost more than the read itself. Code that needs a number parses it where it knows the
 * column is small (catalog OIDs, counts).
 */
import pg from 'pg';
import { parseConnectionUrl, redactUrl, sslOptionFor, type ConnectionParams } from './url';
import { connectionFailure, type ConnectionLabel } from './failure';
import { releasing } from './cancel-mark';

const rawText = (value: string) => value;
/** Type parsers that return every value as the server's text. */
export const RAW_TYPES = { getTypeParser: () => rawText } as unknown as pg.CustomTypesConfig;

export interface PoolOptions {
  max?: number;
  applicationName?: string;
  /** Which side and which connection, for the message when connecting fails (see failure.ts). */
  label?: ConnectionLabel;
}

export function poolConfig(params: ConnectionParams, opts: PoolOptions = {}): pg.PoolConfig {
  return {
    host: params.host,
    port: params.port,
    database: params.database,
    user: params.user,
    ...(params.password !== undefined ? { password: params.password } : {}),
    ssl: sslOptionFor(params.sslmode, params.host),
    application_name: opts.applicationName ?? params.options['application_name'] ?? 'tablesync',
    connectionTimeoutMillis: Number(params.options['connect_timeout'] ?? 10) * 1000,
    max: opts.max ?? 6,
    idleTimeoutMillis: 30_000,
    types: RAW_TYPES,
  };
}

/** A pool for a URL. Pool errors on idle clients (server restart) are absorbed: the next checkout reconnects. */
export function createPool(url: string, opts: PoolOptions = {}): pg.Pool {
  const params = parseConnectionUrl(url);
  const pool = new pg.Pool(poolConfig(params, opts));
  // Every checkout (pool.query checks out too) reports a failure to connect the same way: which
  // side, which connection, what to try. Errors of a connected client are not touched.
  const connect = pool.connect.bind(pool) as (cb?: (err: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void) => Promise<pg.PoolClient> | void;
  const describe = (e: unknown) => connectionFailure(e, params, opts.label);
  // A connection a cancel was sent to (cancel.ts) is destroyed when released, never kept: a cancel
  // still on its way would hit the next query on it. (pool.query releases through the same door.)
  const guard = (client: pg.PoolClient | undefined) => {
    if (!client) return client;
    const release = client.release.bind(client);
    client.release = (err?: Error | boolean) => { release(releasing(client) && !err ? true : err); };
    return client;
  };
  (pool as unknown as { connect: typeof connect }).connect = (cb) => {
    if (cb) return connect((err, client, done) => { const c = guard(client); cb(err ? describe(err) : err, c, c ? (c.release as (release?: unknown) => void) : done); });
    return (connect() as Promise<pg.PoolClient>).then(guard as (c: pg.PoolClient) => pg.PoolClient, (e: unknown) => { throw describe(e); });
  };
  pool.on('error', () => { /* idle client lost; pg removes it from the pool */ });
  // A client that is checked out when its server dies (restart, pg_terminate_backend) emits 'error'
  // with nobody listening, which would crash the process; the query in flight rejects anyway.
  pool.on('connect', (client) => { client.on('error', () => {}); });
  return pool;
}

/** A single client (for LISTEN, or a dedicated COPY). Caller ends it. */
export async function connectClient(url: string, opts: PoolOptions = {}): Promise<pg.Client> {
  const params = parseConnectionUrl(url);
  const client = new pg.Client(poolConfig(params, opts));
  try {
    await client.connect();
  } catch (e) {
    throw connectionFailure(e, params, { name: redactUrl(url), ...opts.label });
  }
  return client;
}

/**
 * Pools keyed by URL, so every part of the engine that talks to one database shares one pool.
 * `closeAll()` at shutdown.
 */
export class PoolRegistry {
  private readonly pools = new Map<string, pg.Pool>();
  constructor(private readonly opts: PoolOptions = {}) {}

  get(url: string): pg.Pool {
    let pool = this.pools.get(url);
    if (!pool) {
      pool = createPool(url, this.opts);
      this.pools.set(url, pool);
    }
    return pool;
  }

  async close(url: string): Promise<void> {
    const pool = this.pools.get(url);
    this.pools.delete(url);
    await pool?.end();
  }

  async closeAll(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.end().catch(() => {})));
  }
}
