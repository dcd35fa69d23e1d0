#!/usr/bin/env node
// `npm start`: the desktop app where the Electron binary is installed; elsewhere, say how to get
// it or how to use browser mode instead, and exit 1.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { prepareRenderer } from './renderer-build.mjs';

const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    // The electron package exports the binary's path; it throws when the binary was never downloaded.
    const path = require('electron');
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

const binary = electronBinary();
if (!binary) {
  process.stderr.write(`The Electron binary is not installed here, so the desktop app cannot start.

To install it (on a machine with network access):
  npm install-scripts approve electron && npm rebuild electron

Or use the same app in your browser, with the built-in demo databases:
  npx tablesync serve --demo
`);
  process.exit(1);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (process.argv.includes('--rebuild')) {
  run('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn']);
} else {
  // built when missing, rebuilt when its sources changed (the same rule as `tablesync serve`)
  try {
    if (prepareRenderer(process.cwd()).state !== 'current') process.exit(1);
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
run('node', ['scripts/build-electron.mjs']);
const child = spawn(binary, ['.'], { stdio: 'inherit' });
child.on('exit', (code) => process.exit(code ?? 0));
