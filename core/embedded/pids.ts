/**
 * Pid files of servers we started: read one, and ask whether its process still runs. Used to find a
 * demo PostgreSQL left behind by a TableSync that was killed, and by tests that check none is left.
 */
import { readFileSync } from 'node:fs';

/** The pid on the first line of a pid file (PostgreSQL's postmaster.pid, our owner file), if any. */
export function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, as another user's process (the server runs as postgres when we are root)
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
