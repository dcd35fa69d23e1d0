/**
 * The baseline: Debian's `psql` running `\copy (select …) to stdout` into /dev/null, i.e. the
 * fastest a stock client reads the same rows. Timed from spawn to exit.
 */
import { spawn, execFileSync } from 'node:child_process';

export function psqlPath(): string | undefined {
  for (const p of ['/usr/bin/psql', '/usr/lib/postgresql/15/bin/psql']) {
    try {
      execFileSync(p, ['--version'], { stdio: 'ignore' });
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Run `\copy (query) to stdout` and return the wall time in ms. */
export function timePsqlCopy(url: string, query: string): Promise<number> {
  const psql = psqlPath();
  if (!psql) throw new Error('psql is missing (install postgresql-client): the read benchmark needs it as its baseline');
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', `\\copy (${query}) to stdout`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`psql exited with ${code}: ${err}`))));
  });
}
