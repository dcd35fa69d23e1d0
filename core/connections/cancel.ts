/**
 * The one door for cancelling a statement on the server: `pg_cancel_backend(pid)` sent from a
 * connection of its own (the busy one cannot speak), repeated until the work settles.
 *
 * Why repeated: a cancel reaches only the statement running at that moment. One that lands between
 * two statements of a multi-statement read (or before the first has reached the server) cancels
 * nothing, and the next statement runs to its end. So every connection the work holds is sent a
 * cancel now and again every EVERY_MS until the work settles (or FOR_MS have passed: a statement
 * that ignores cancels is not worth a connection's churn forever).
 *
 * Why never reused: a cancel still on its way when the statement ends would hit the next query on
 * that connection. Every connection a cancel was sent to is marked; a pool (pool.ts) destroys a
 * marked connection when it is released instead of keeping it. A connection that is not pooled (a
 * console session, whose state is the user's) is the owner's to judge: it stops the cancels first
 * (`stop()` of `add`, awaited) and keeps the session, as psql does after a cancel.
 *
 * @example
 *   const cancel = new BackendCancel(cancelSenderForPool(pool));
 *   cancel.add(client);
 *   signal.addEventListener('abort', () => cancel.cancel());
 *   try { await work(client); } finally { await cancel.settle(); client.release(); } // destroyed if a cancel was sent
 */
import pg from 'pg';
import { backendPid } from './backend-pid';
import { connectClient } from './pool';
import { cancelWasSent, markCancelSent, onRelease } from './cancel-mark';

export { cancelWasSent } from './cancel-mark';

/** How often a cancel is repeated while the work has not settled (ms). */
export const CANCEL_EVERY_MS = 200;
/** How long at most a cancel is repeated (ms). */
export const CANCEL_FOR_MS = 30_000;

/** Opens the connection cancels are sent over (one per cancel, ended when it settles). */
export type CancelSender = () => Promise<pg.ClientBase & { end(): Promise<void> }>;

/** Cancels sent over a new connection to `pool`'s server, made as the pool makes its own. */
export function cancelSenderForPool(pool: pg.Pool): CancelSender {
  return async () => {
    const c = new pg.Client({ ...pool.options, application_name: 'tablesync cancel' });
    c.on('error', () => {});
    await c.connect();
    return c;
  };
}

/** Cancels sent over a new connection to `url`. */
export function cancelSenderForUrl(url: string): CancelSender {
  return async () => {
    const c = await connectClient(url, { applicationName: 'tablesync cancel' });
    c.on('error', () => {});
    return c;
  };
}

/**
 * A cancel of the statements some work runs on the connections it holds (`add`). Nothing is sent
 * before `cancel()`; from then on every held connection is sent a cancel at once and every
 * CANCEL_EVERY_MS until `settle()` (the work ended) or CANCEL_FOR_MS. A pooled connection stops
 * being cancelled when it is released (it is destroyed then, if a cancel was sent to it).
 * Best effort: a server with one session (PGlite) has no second connection, and the work then ends
 * when its statement does.
 */
export class BackendCancel {
  private readonly held = new Map<object, { client: pg.ClientBase; unhook: () => void }>();
  private started = false;
  private settled = false;
  private until = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sender: Promise<(pg.ClientBase & { end(): Promise<void> }) | undefined> | undefined;
  /** The cancels on their way, per connection: a stop waits for them (they have reached the server then). */
  private readonly inFlight = new Map<object, Set<Promise<void>>>();

  constructor(private readonly send: CancelSender, private readonly opts: { everyMs?: number; forMs?: number } = {}) {}

  /** True between cancel() and settle(). */
  get cancelling(): boolean {
    return this.started && !this.settled;
  }

  /**
   * `client` serves the work now: cancel it with the rest (at once, when the cancel has begun).
   * Returns a stop for it (the work left it; resolves once no cancel to it is on its way).
   */
  add(client: pg.ClientBase): () => Promise<void> {
    if (this.settled || this.held.has(client)) return () => this.drained(client);
    const unhook = onRelease(client, () => { this.held.delete(client); });
    this.held.set(client, { client, unhook });
    if (this.cancelling) this.sendTo(client);
    return () => {
      this.held.get(client)?.unhook();
      this.held.delete(client);
      return this.drained(client);
    };
  }

  /** Begin cancelling (again calls do nothing). */
  cancel(): void {
    if (this.started || this.settled) return;
    this.started = true;
    this.until = Date.now() + (this.opts.forMs ?? CANCEL_FOR_MS);
    this.round();
  }

  /**
   * The work ended: no more cancels. Resolves once the ones on their way arrived and the sending
   * connection is closed. `abandon`: connections the work throws away mid-statement (a reader left
   * in a COPY). Closing our end does not stop a statement on the server (it runs on until it next
   * writes to the socket), and a cancel that reached it before its statement did was lost; so each
   * of them a cancel was sent to is ended on the server (pg_terminate_backend) before the caller
   * closes it, while its pid is still surely its own.
   */
  async settle(opts: { abandon?: pg.ClientBase[] } = {}): Promise<void> {
    this.settled = true;
    if (this.timer) clearTimeout(this.timer);
    for (const h of this.held.values()) h.unhook();
    this.held.clear();
    await Promise.all([...this.inFlight.values()].flatMap((s) => [...s]));
    const pids = (opts.abandon ?? []).filter(cancelWasSent).map(backendPid).filter((p): p is number => p !== undefined);
    if (pids.length) {
      this.sender ??= this.send().catch(() => undefined);
      const c = await this.sender;
      await c?.query('SELECT pg_terminate_backend(p) FROM unnest($1::int4[]) AS p', [pids]).catch(() => {});
    }
    const c = await this.sender?.catch(() => undefined);
    await c?.end().catch(() => {});
  }

  private round(): void {
    this.timer = undefined;
    if (!this.cancelling) return;
    for (const { client } of this.held.values()) this.sendTo(client);
    if (Date.now() < this.until) {
      this.timer = setTimeout(() => this.round(), this.opts.everyMs ?? CANCEL_EVERY_MS);
      this.timer.unref?.();
    }
  }

  private sendTo(client: pg.ClientBase): void {
    const pid = backendPid(client);
    if (pid === undefined) return;
    // One on its way to it already (a slow server): the next round sends again, none pile up.
    if (this.inFlight.get(client)?.size) return;
    // Marked before the cancel leaves: from here on the connection is not to be reused.
    markCancelSent(client);
    this.sender ??= this.send().catch(() => undefined);
    const p = this.sender.then(async (c) => {
      if (!c) return;
      await c.query('SELECT pg_cancel_backend($1)', [pid]).then(() => undefined, () => undefined);
    });
    let set = this.inFlight.get(client);
    if (!set) this.inFlight.set(client, (set = new Set()));
    set.add(p);
    void p.finally(() => { set.delete(p); });
  }

  private async drained(client: object): Promise<void> {
    await Promise.all([...(this.inFlight.get(client) ?? [])]);
  }
}
