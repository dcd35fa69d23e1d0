/**
 * The engine the headless shells use (serve, demo): data folder from $TABLESYNC_HOME or the
 * platform default, secrets in a 0600 file there, version from package.json.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultDataDir } from '../settings/data-dir';
import { Engine, type EngineOptions } from './engine';

/** The repository/package root (where package.json and dist/ are), seen from this file. */
export function packageRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export function openEngine(opts: Partial<EngineOptions> = {}): Engine {
  return new Engine({ dataDir: opts.dataDir ?? defaultDataDir(), mode: opts.mode ?? 'browser', version: opts.version ?? packageVersion(), ...opts });
}
