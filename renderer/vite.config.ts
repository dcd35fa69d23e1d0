import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Relative base: the same build is served by browser mode (http://127.0.0.1) and by Electron's
// app:// scheme, so no asset URL may assume a host.
export default defineConfig({
  // The directory of this file, without a Node import (lint keeps renderer/ free of them).
  root: decodeURIComponent(new URL('.', import.meta.url).pathname),
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 2000,
  },
});
