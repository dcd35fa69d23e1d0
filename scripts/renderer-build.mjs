// Is dist/renderer (the UI that `tablesync serve` and the desktop window load) built from the
// renderer sources as they are now? The one rule for it, used by `tablesync serve` and `npm start`.
// The vite build records what went into it (renderer/vite.config.ts writes build-inputs.json:
// when the build started, and every source file of ours it read, core/api included); the build is
// current while none of those files is newer than that start or gone. A pull or checkout rewrites
// the files it changes, so after one the UI is rebuilt instead of served stale.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const RENDERER_INPUTS_FILE = 'build-inputs.json';
export const RENDERER_BUILD_COMMAND = 'npx vite build --config renderer/vite.config.ts';

/**
 * `{ state: 'current' | 'missing' | 'stale', reason?, canBuild }`: canBuild is false where the
 * checkout has no renderer sources (a prebuilt UI is served as it is).
 */
export function rendererBuildState(root) {
  const dist = join(root, 'dist', 'renderer');
  const canBuild = existsSync(join(root, 'renderer', 'vite.config.ts'));
  if (!existsSync(join(dist, 'index.html'))) return { state: 'missing', reason: 'not built yet', canBuild };
  if (!canBuild) return { state: 'current', canBuild };
  let record;
  try {
    record = JSON.parse(readFileSync(join(dist, RENDERER_INPUTS_FILE), 'utf8'));
  } catch {
    return { state: 'stale', reason: `dist/renderer has no ${RENDERER_INPUTS_FILE} (built before TableSync recorded its sources)`, canBuild };
  }
  for (const file of record.inputs) {
    const s = statSync(join(root, file), { throwIfNoEntry: false });
    if (!s) return { state: 'stale', reason: `${file} is gone since the last build`, canBuild };
    if (s.mtimeMs > record.started) return { state: 'stale', reason: `${file} changed since the last build`, canBuild };
  }
  return { state: 'current', canBuild };
}

/** Run the vite build (vite is a dev dependency); true when it succeeded. */
export function buildRenderer(root) {
  const r = spawnSync('npx', ['vite', 'build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  return r.status === 0;
}

/**
 * Make dist/renderer current before serving it: build it when missing, rebuild it when stale.
 * A stale UI whose rebuild fails is refused (throws, saying why and how to build by hand): a user
 * who pulled must never get yesterday's UI against today's engine. A missing one whose build fails
 * is served as the page that says how to build it.
 */
export function prepareRenderer(root, { build = buildRenderer, log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const ui = rendererBuildState(root);
  if (ui.state === 'current' || !ui.canBuild) return ui;
  log(ui.state === 'missing' ? 'Building the user interface (first run only)...' : `Rebuilding the user interface (${ui.reason})...`);
  if (build(root)) return rendererBuildState(root);
  if (ui.state === 'stale') {
    throw new Error(`the user interface in dist/renderer is out of date (${ui.reason}) and rebuilding it failed (see above); build it by hand: ${RENDERER_BUILD_COMMAND}`);
  }
  log('Building the user interface failed; the page will say how to build it by hand.');
  return ui;
}
