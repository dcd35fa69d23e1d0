import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * Records what this build read, for scripts/renderer-build.mjs (`tablesync serve` rebuilds a UI
 * whose sources changed since): build-inputs.json with the build's start time and every file of
 * ours (renderer/, core/api…, never node_modules) that went into it, as paths from the repository.
 */
function recordInputs(): Plugin {
  let started = 0;
  let repo = '';
  return {
    name: 'tablesync-record-inputs',
    apply: 'build',
    configResolved(config) {
      repo = config.root.replace(/[\\/]+$/, '').replace(/[\\/]renderer$/, '');
    },
    buildStart() {
      started = Date.now();
    },
    generateBundle() {
      const inputs = new Set(['renderer/vite.config.ts', 'renderer/tsconfig.json', 'package.json']);
      for (const id of this.getModuleIds()) {
        const file = id.replace(/\?.*$/, '');
        if (file.startsWith(`${repo}/`) && !file.includes('/node_modules/')) inputs.add(file.slice(repo.length + 1));
      }
      this.emitFile({ type: 'asset', fileName: 'build-inputs.json', source: `${JSON.stringify({ started, inputs: [...inputs].sort() }, null, 1)}\n` });
    },
  };
}

// Relative base: the same build is served by browser mode (http://127.0.0.1) and by Electron's
// app:// scheme, so no asset URL may assume a host.
export default defineConfig({
  // The directory of this file, without a Node import (lint keeps renderer/ free of them).
  root: decodeURIComponent(new URL('.', import.meta.url).pathname),
  base: './',
  plugins: [react(), recordInputs()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 2000,
  },
});
