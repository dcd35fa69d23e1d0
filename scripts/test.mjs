#!/usr/bin/env node
// `npm test`: type-check, lint, then every test project (unit, integration on each PostgreSQL
// version, vector, e2e). Ends with one plain line `N passed, N failed` that CI reads; type-check and
// lint count as one check each.
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync, existsSync } from 'node:fs';

const extra = process.argv.slice(2);
let passed = 0;
let failed = 0;

function step(name, cmd, args) {
  process.stdout.write(`\n=== ${name}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: process.env });
  return r.status === 0;
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
const report = 'test-results/vitest.json';
const ok = step('tests', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extra]);
try {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += (r.numFailedTests ?? 0) + (r.numRuntimeErrorTestSuites ?? 0);
  if (!ok && (r.numFailedTests ?? 0) === 0 && (r.numRuntimeErrorTestSuites ?? 0) === 0) failed++; // e.g. unhandled error
} catch {
  failed++;
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
