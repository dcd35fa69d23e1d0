// The CLI, precompiled: bundle cli/main.ts with esbuild into dist/cli/<build>/ (ESM, one chunk per
// command, the code they share in common chunks; runtime packages stay external in node_modules),
// with a manifest of every source file that went in (path, mtime, size). bin/tablesync.mjs runs
// that build while the manifest still matches the sources and rebuilds it (through buildCli) when
// one changed, so `npm install` → first command needs no build step and a pull never runs stale
// code. `node scripts/build-cli.mjs` builds by hand (prints the folder).
//
// Rules the runner relies on (checked here, a build that breaks them fails):
// - the only lazy imports of our own code are main's imports of the commands, which a command's
//   start loads at once; so a running process has read every file of its build within
//   milliseconds, and replacing or removing an older build cannot pull code out from under it.
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Files outside the bundle's graph whose change also changes the build. */
const EXTRA_INPUTS = ['scripts/build-cli.mjs', 'tsconfig.base.json', 'tsconfig.json', 'package.json'];
/** An older build is removed once it is this old (a process that started on it has long read it). */
const KEEP_OLD_MS = 10 * 60 * 1000;

/** Where builds live; `current` names the one to run. */
export function cliDistDir(root = ROOT) {
  return join(root, 'dist', 'cli');
}

/**
 * The current build's folder when its manifest still matches every source file (same mtime and
 * size; a checkout or an edit changes the mtime), or null: none yet, or stale. Costs one stat per
 * source file, a few milliseconds.
 */
export function currentCliBuild(root = ROOT) {
  const dist = cliDistDir(root);
  try {
    const id = readFileSync(join(dist, 'current'), 'utf8').trim();
    const dir = join(dist, id);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    for (const [file, [mtimeMs, size]] of Object.entries(manifest.inputs)) {
      const s = statSync(join(root, file), { throwIfNoEntry: false });
      if (!s || s.mtimeMs !== mtimeMs || s.size !== size) return null;
    }
    return join(dir, manifest.entry);
  } catch {
    return null;
  }
}

/**
 * Build the CLI into a fresh folder under dist/cli and make it the current build (an atomic
 * rename, so a concurrent start sees the old build or the new one, never half of one). Returns
 * its entry file. Two processes building at once each finish their own; the last one is current.
 */
export async function buildCli(root = ROOT) {
  const { build } = await import('esbuild');
  const dist = cliDistDir(root);
  mkdirSync(dist, { recursive: true });
  const id = `b${Date.now().toString(36)}-${process.pid}`;
  const tmp = join(dist, `.tmp-${id}`);
  const result = await build({
    absWorkingDir: root,
    entryPoints: { main: 'cli/main.ts' },
    outdir: tmp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outExtension: { '.js': '.mjs' },
    chunkNames: '[name]-[hash]',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
  });
  checkNoLazyChunks(result.metafile, tmp, root);
  const inputs = {};
  for (const file of [...Object.keys(result.metafile.inputs), ...EXTRA_INPUTS]) {
    const s = statSync(join(root, file));
    inputs[file] = [s.mtimeMs, s.size];
  }
  writeFileSync(join(tmp, 'manifest.json'), `${JSON.stringify({ built: new Date().toISOString(), entry: 'main.mjs', inputs }, null, 1)}\n`);
  const out = join(dist, id);
  renameSync(tmp, out);
  writeFileSync(join(dist, `.current-${id}`), id);
  renameSync(join(dist, `.current-${id}`), join(dist, 'current'));
  removeOldBuilds(dist, id);
  return join(out, 'main.mjs');
}

/** Only main may import our own code lazily (the commands); anything else would load late from a build that may be gone. */
function checkNoLazyChunks(metafile, outdir, root) {
  const main = relative(root, join(outdir, 'main.mjs'));
  for (const [file, out] of Object.entries(metafile.outputs)) {
    if (file === main) continue;
    const lazy = out.imports.filter((i) => i.kind === 'dynamic-import' && !i.external);
    if (lazy.length) {
      throw new Error(`build-cli: ${out.entryPoint ?? file} imports our own code lazily (${lazy.map((i) => i.path).join(', ')}); import it statically, or lazy-load it per command in cli/main.ts`);
    }
  }
}

function removeOldBuilds(dist, keep) {
  const now = Date.now();
  for (const name of readdirSync(dist)) {
    if (name === keep || name === 'current') continue;
    const p = join(dist, name);
    try {
      if (now - statSync(p).mtimeMs > KEEP_OLD_MS) rmSync(p, { recursive: true, force: true });
    } catch {
      // Another process removed it first.
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await buildCli());
}
