/**
 * Reconnect delays: exponential with full jitter, so many watchers that lost the same server do not
 * come back in lockstep. Attempt 1 waits up to `initialMs`, each further attempt doubles the ceiling
 * up to `maxMs`; never less than a quarter of the ceiling, so a flapping server is not hammered.
 */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
}

export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random = Math.random): number {
  const initial = opts.initialMs ?? 200;
  const max = opts.maxMs ?? 10_000;
  const ceiling = Math.min(max, initial * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.25 + 0.75 * random()));
}
