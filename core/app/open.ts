/**
 * The engine the headless shells use (serve, demo): data folder from $TABLESYNC_HOME or the
 * platform default, secrets in a 0600 file there, version from package.json.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { defaultDataDir } from '../settings/data-dir';
import { Engine, type EngineOptions } from './engine';

/**
 * The repository/package root (where package.json and dist/ are): the nearest folder above this
 * module with TableSync's package.json. Searched, not counted in `../`, because this module runs
 * from core/app/ through tsx and from dist/cli/<build>/ precompiled (bin/tablesync.mjs).
 */
export function packageRoot(): string {
  return packageInfo().root;
}

export function packageVersion(): string {
  return packageInfo().version;
}

function packageInfo(): { root: string; version: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tablesync') return { root: dir, version: pkg.version ?? '0.0.0' };
    } catch {
      // No package.json here (or not readable): look further up.
    }
    const up = dirname(dir);
    if (up === dir) return { root: fileURLToPath(new URL('../../', import.meta.url)), version: '0.0.0' };
    dir = up;
  }
}

export function openEngine(opts: Partial<EngineOptions> = {}): Engine {
  return new Engine({ dataDir: opts.dataDir ?? defaultDataDir(), mode: opts.mode ?? 'browser', version: opts.version ?? packageVersion(), ...opts });
}
