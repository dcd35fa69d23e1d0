/**
 * Which connections a cancel was sent to (cancel.ts), and the hook pools call when they take a
 * connection back (pool.ts): kept apart from cancel.ts so the pool needs nothing else of it.
 */
const sent = new WeakSet<object>();
const releaseHooks = new WeakMap<object, Set<() => void>>();

/** True once a cancel was sent to `client`: it must not serve another query (see above). */
export function cancelWasSent(client: object): boolean {
  return sent.has(client);
}

/**
 * For pool.ts: `client` is being released to its pool. Runs what waited for that (a cancel stops
 * cancelling it: it may serve someone else next) and says whether it must be destroyed instead.
 */
export function releasing(client: object): boolean {
  const hooks = releaseHooks.get(client);
  if (hooks) {
    releaseHooks.delete(client);
    for (const h of hooks) h();
  }
  return sent.has(client);
}

export function onRelease(client: object, fn: () => void): () => void {
  let hooks = releaseHooks.get(client);
  if (!hooks) releaseHooks.set(client, (hooks = new Set()));
  hooks.add(fn);
  return () => { hooks.delete(fn); };
}

/** Mark `client`: a cancel is on its way to it. */
export function markCancelSent(client: object): void {
  sent.add(client);
}
