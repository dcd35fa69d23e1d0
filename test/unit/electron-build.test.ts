import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The desktop shell must build where the Electron binary is absent (CI): main and preload bundle,
// and the sandboxed preload is one CommonJS file that requires nothing but 'electron'.
describe('npm run build:electron', () => {
  const out = mkdtempSync(join(tmpdir(), 'tablesync-electron-build-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('bundles main and a self-contained sandbox preload', () => {
    execFileSync(process.execPath, ['scripts/build-electron.mjs', '--outdir', out], { stdio: 'pipe' });
    const preload = readFileSync(join(out, 'preload.cjs'), 'utf8');
    expect([...preload.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1])).toEqual(['electron']);
    expect(preload).toContain('exposeInMainWorld("tablesync"');
    expect(preload).not.toMatch(/exposeInMainWorld\([^)]*ipcRenderer\s*[,)]/);
    const main = readFileSync(join(out, 'main.cjs'), 'utf8');
    expect(main).toContain('require("electron")');
    expect(main).toContain('tablesync:call');
    execFileSync(process.execPath, ['--check', join(out, 'main.cjs')]);
  });
});
