/**
 * When a long-running command (watch, serve, demo) should stop: SIGINT, SIGTERM, or its parent
 * going away. The last one matters because `npx tablesync watch` runs us under `npm exec`, which
 * does not pass a SIGTERM on: a supervisor or a terminal that stops npx would leave the watcher
 * running as an orphan, still holding the flow's lock. The parent is checked twice a second; a
 * process started directly by init (pid 1: a container's entry point, systemd) has no parent to lose.
 *
 * A second Ctrl+C while stopping, or a stop that hangs, exits at once with 130 (128 + SIGINT).
 */
export type StopReason = 'SIGINT' | 'SIGTERM' | 'parent exited';

/** Exit status of a forced stop (second Ctrl+C, or a clean stop that hung). */
export const FORCED_EXIT = 130;

export interface StopWatch {
  /** Resolves with why we should stop. */
  readonly requested: Promise<StopReason>;
  /** Stop listening (the command finished by itself). */
  dispose(): void;
}

export function watchForStop(opts: { pollMs?: number; ppid?: () => number } = {}): StopWatch {
  const ppid = opts.ppid ?? (() => process.ppid);
  const parent = ppid();
  let resolve!: (r: StopReason) => void;
  const requested = new Promise<StopReason>((r) => (resolve = r));
  const onInt = () => resolve('SIGINT');
  const onTerm = () => resolve('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  const timer = parent > 1
    ? setInterval(() => {
      if (ppid() === parent) return;
      // whoever read our output is gone with the parent: writing to it must not crash the stop
      process.stdout.on('error', () => {});
      process.stderr.on('error', () => {});
      resolve('parent exited');
    }, opts.pollMs ?? 500)
    : undefined;
  timer?.unref();
  const dispose = () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    if (timer) clearInterval(timer);
  };
  void requested.then(dispose);
  return { requested, dispose };
}

/**
 * While a clean stop runs: a second Ctrl+C, or `graceMs` without finishing, exits with 130. Returns
 * a function that cancels the guard once the stop completed.
 */
export function forceExitIfStuck(graceMs = 20_000): () => void {
  const force = () => process.exit(FORCED_EXIT);
  process.once('SIGINT', force);
  const timer = setTimeout(force, graceMs);
  timer.unref();
  return () => {
    process.off('SIGINT', force);
    clearTimeout(timer);
  };
}
