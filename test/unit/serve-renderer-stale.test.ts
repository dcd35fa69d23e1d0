// `tablesync serve` (and `npm start`) serve dist/renderer only when it was built from the renderer
// sources as they are now: missing → built; a source newer than the build (a pull) → rebuilt; a
// stale build whose rebuild fails → refused with a message that says how to build by hand.
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareRenderer, rendererBuildState, RENDERER_INPUTS_FILE } from '../../scripts/renderer-build.mjs';

/** A checkout with renderer sources and, unless `built` is false, a dist/renderer built at `builtAt`. */
function checkout(opts: { built?: boolean; record?: boolean; builtAt?: number } = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'tablesync-ui-'));
  mkdirSync(join(root, 'renderer', 'src'), { recursive: true });
  mkdirSync(join(root, 'core', 'api'), { recursive: true });
  const old = new Date(Date.now() - 3600_000);
  for (const f of ['renderer/vite.config.ts', 'renderer/src/App.tsx', 'core/api/names.ts']) {
    writeFileSync(join(root, f), '// source\n');
    utimesSync(join(root, f), old, old);
  }
  if (opts.built !== false) {
    mkdirSync(join(root, 'dist', 'renderer'), { recursive: true });
    writeFileSync(join(root, 'dist', 'renderer', 'index.html'), '<!doctype html>');
    if (opts.record !== false) {
      writeFileSync(join(root, 'dist', 'renderer', RENDERER_INPUTS_FILE), JSON.stringify({ started: opts.builtAt ?? Date.now() - 60_000, inputs: ['renderer/vite.config.ts', 'renderer/src/App.tsx', 'core/api/names.ts'] }));
    }
  }
  return root;
}

const withCheckout = (opts: Parameters<typeof checkout>[0], fn: (root: string) => void) => {
  const root = checkout(opts);
  try {
    fn(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
};

describe('the UI build served by tablesync serve', () => {
  it('is current when no source it was built from changed since', () => withCheckout({}, (root) => {
    expect(rendererBuildState(root).state).toBe('current');
    const builds: string[] = [];
    expect(prepareRenderer(root, { build: (r) => { builds.push(r); return true; }, log: () => {} }).state).toBe('current');
    expect(builds).toEqual([]);
  }));

  it('is stale when a source (renderer/ or the core/api it imports) is newer than the build, and serve rebuilds it', () => withCheckout({}, (root) => {
    writeFileSync(join(root, 'core', 'api', 'names.ts'), '// pulled\n');
    expect(rendererBuildState(root)).toMatchObject({ state: 'stale', reason: 'core/api/names.ts changed since the last build' });
    const logs: string[] = [];
    const result = prepareRenderer(root, {
      build: (r) => { // the rebuild records the sources as they are now
        writeFileSync(join(r, 'dist', 'renderer', RENDERER_INPUTS_FILE), JSON.stringify({ started: Date.now() + 1000, inputs: ['core/api/names.ts'] }));
        return true;
      },
      log: (l) => logs.push(l),
    });
    expect(logs).toEqual(['Rebuilding the user interface (core/api/names.ts changed since the last build)...']);
    expect(result.state).toBe('current');
  }));

  it('refuses a stale UI whose rebuild fails, saying why and how to build it', () => withCheckout({}, (root) => {
    writeFileSync(join(root, 'renderer', 'src', 'App.tsx'), '// pulled\n');
    expect(() => prepareRenderer(root, { build: () => false, log: () => {} })).toThrow(/out of date \(renderer\/src\/App\.tsx changed since the last build\) and rebuilding it failed.*npx vite build --config renderer\/vite\.config\.ts/);
  }));

  it('is stale when a source it was built from is gone, or when the build has no record of its sources', () => {
    withCheckout({}, (root) => {
      rmSync(join(root, 'renderer', 'src', 'App.tsx'));
      expect(rendererBuildState(root)).toMatchObject({ state: 'stale', reason: 'renderer/src/App.tsx is gone since the last build' });
    });
    withCheckout({ record: false }, (root) => {
      expect(rendererBuildState(root).state).toBe('stale');
    });
  });

  it('builds a missing UI; when that build fails the page says how (not refused)', () => withCheckout({ built: false }, (root) => {
    const logs: string[] = [];
    expect(prepareRenderer(root, { build: () => false, log: (l) => logs.push(l) }).state).toBe('missing');
    expect(logs).toEqual(['Building the user interface (first run only)...', 'Building the user interface failed; the page will say how to build it by hand.']);
  }));

  it('serves a prebuilt UI as it is where the checkout has no renderer sources', () => withCheckout({}, (root) => {
    rmSync(join(root, 'renderer'), { recursive: true });
    expect(rendererBuildState(root)).toMatchObject({ state: 'current', canBuild: false });
  }));
});
