#!/usr/bin/env node
// `npx tablesync …`. Runs the CLI precompiled (dist/cli/, built by scripts/build-cli.mjs): while
// that build matches the sources it is loaded directly; when a source changed (an edit, a pull)
// or there is no build yet, it is rebuilt first (esbuild, a few hundred ms, once). Where it cannot
// be built (a read-only checkout, a full disk) the TypeScript runs through tsx, as
// before, slower to start but the same program; TABLESYNC_CLI=tsx forces that. README "Decisions".
import * as nodeModule from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

// Node ≥ 22.1 keeps V8's compiled code of every module (ours and pg, zod…) on disk between runs.
nodeModule.enableCompileCache?.();

const here = dirname(fileURLToPath(import.meta.url));

async function loadMain() {
  if (process.env.TABLESYNC_CLI !== 'tsx') {
    const { buildCli, currentCliBuild } = await import('../scripts/build-cli.mjs');
    let entry = currentCliBuild();
    if (!entry) {
      try {
        entry = await buildCli();
      } catch (e) {
        if (process.env.TABLESYNC_DEBUG) process.stderr.write(`tablesync: running from source (the CLI could not be built: ${e.message})\n`);
      }
    }
    if (entry) return import(pathToFileURL(entry).href);
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import(join(here, '..', 'cli', 'main.ts'));
}

const { main } = await loadMain();
process.exitCode = await main(process.argv.slice(2));
