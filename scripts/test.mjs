#!/usr/bin/env node
// `npm test`: type-check, lint, then every test project (unit, integration on each PostgreSQL
// version, vector, e2e). Ends with one plain line `N passed, N failed` that CI reads; type-check and
// lint count as one check each.
//
// With TABLESYNC_ALSO_NODE=/path/to/node (`.ci/run` sets it to a Node 24), the unit suite and the
// PostgreSQL 18 integration files that lean on the runtime most (ALSO_NODE_FILES: sockets and the
// replication protocol, streams and COPY relays, child processes and signals, the WebSocket API, TLS)
// run a second time under that Node, and the final line sums both passes. Not every integration file:
// the whole suite twice took CI past 20 minutes.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';

const extra = process.argv.slice(2);
let passed = 0;
let failed = 0;

function step(name, cmd, args, env = process.env) {
  process.stdout.write(`\n=== ${name}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  return r.status === 0;
}

/** Run vitest and add its counts; a run that failed without a failed test counts as one failure. */
function vitestPass(name, cmd, vitest, args, report, env) {
  const ok = step(name, cmd, [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args], env);
  try {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    passed += r.numPassedTests ?? 0;
    failed += (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0);
    if (!ok && (r.numFailedTests ?? 0) === 0 && (r.numRuntimeErrorTestSuites ?? 0) === 0) failed++; // e.g. unhandled error
  } catch {
    failed++;
  }
}

for (const [name, cmd, args] of [
  ['type-check', 'npx', ['tsc', '-p', 'tsconfig.json']],
  ['type-check (renderer)', 'npx', ['tsc', '-p', 'renderer/tsconfig.json']],
  ['lint', 'npx', ['eslint', '.']],
]) {
  if (step(name, cmd, args)) passed++;
  else failed++;
}

// The e2e suite drives the built renderer; build it first when the project has one.
if (existsSync('renderer/vite.config.ts')) {
  if (step('build renderer', 'npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'])) passed++;
  else failed++;
}

mkdirSync('test-results', { recursive: true });
vitestPass('tests', 'npx', 'vitest', extra, 'test-results/vitest.json');

/** The second Node's pass: every unit file, and the integration files under these path prefixes. */
const ALSO_NODE_FILES = ['test/unit/', 'test/integration/live-', 'test/integration/cli-', 'test/integration/initial-load', 'test/integration/api-', 'test/integration/ws-', 'test/integration/tls-', 'test/integration/export-', 'test/integration/state-'];
const alsoNode = process.env.TABLESYNC_ALSO_NODE;
if (alsoNode) {
  // The test files spawn `process.execPath` and `npx`: put that Node first on PATH for them too.
  const env = { ...process.env, PATH: `${dirname(alsoNode)}:${process.env.PATH ?? ''}` };
  const version = spawnSync(alsoNode, ['--version'], { encoding: 'utf8' }).stdout.trim();
  vitestPass(`tests again under Node ${version || alsoNode} (unit; integration-pg18: ${ALSO_NODE_FILES.join(' ')})`, alsoNode, 'node_modules/vitest/vitest.mjs', ['--project', 'unit', '--project', 'integration-pg18', ...ALSO_NODE_FILES], 'test-results/vitest-also-node.json', env);
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
