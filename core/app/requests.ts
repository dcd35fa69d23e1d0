/**
 * Long calls the UI can cancel (`query.cancel` with the call's requestId). A running request has an
 * AbortSignal (for applies and anything that checks it) and the PostgreSQL connections serving it,
 * whose statements are cancelled from a separate connection (the busy one cannot speak), again and
 * again until the request ends: core/connections/cancel.ts. A pooled connection stops being
 * cancelled when it goes back to its pool, and one a cancel was sent to is not kept there.
 */
import type pg from 'pg';
import { BackendCancel, cancelSenderForUrl } from '../connections/cancel';
import { TableSyncError } from '../errors';

interface Running {
  controller: AbortController;
  /** One cancel per server URL the request reached. */
  cancels: Map<string, BackendCancel>;
}

export interface RequestHandle {
  readonly signal: AbortSignal;
  /**
   * `client` (of server `url`) serves this request now: a cancel reaches its statements until it
   * is released to its pool. Returns a stop for a connection that is not pooled (a console
   * session), to call once its statements for this request have ended: resolves when no cancel to
   * it is on its way, so the session's next statement is safe from this one's cancel.
   */
  backend(url: string, client: pg.ClientBase): () => Promise<void>;
  /** True once cancel() reached this request. */
  cancelled(): boolean;
}

export class RequestRegistry {
  private readonly running = new Map<string, Running>();

  /**
   * Run `fn` as request `id` (or anonymously when there is no id). A second call with an id that
   * is still running is refused: a cancel must know which call it stops.
   */
  async run<T>(id: string | undefined, fn: (h: RequestHandle) => Promise<T>): Promise<T> {
    const r: Running = { controller: new AbortController(), cancels: new Map() };
    if (id !== undefined) {
      if (this.running.has(id)) throw new TableSyncError('INVALID_INPUT', `a request with id "${id}" is already running`);
      this.running.set(id, r);
    }
    const handle: RequestHandle = {
      signal: r.controller.signal,
      backend: (url, client) => {
        let cancel = r.cancels.get(url);
        if (!cancel) {
          r.cancels.set(url, (cancel = new BackendCancel(cancelSenderForUrl(url))));
          // cancelled before the query reached this server: stop it as soon as it starts
          if (r.controller.signal.aborted) cancel.cancel();
        }
        return cancel.add(client);
      },
      cancelled: () => r.controller.signal.aborted,
    };
    try {
      return await fn(handle);
    } catch (e) {
      if (r.controller.signal.aborted) {
        throw e instanceof TableSyncError && e.code === 'CANCELLED' ? e : new TableSyncError('CANCELLED', 'cancelled', undefined, { cause: e });
      }
      throw e;
    } finally {
      if (id !== undefined && this.running.get(id) === r) this.running.delete(id);
      // Not awaited: the answer does not wait for the cancels' connection to close (or, with the
      // server gone, to fail). A pooled connection a cancel was sent to is not reused anyway; a
      // session that is kept (the console's) waited for its own cancels with the stop of backend().
      for (const c of r.cancels.values()) void c.settle();
    }
  }

  /** Cancel request `id`; false when no such request is running (already finished). */
  async cancel(id: string): Promise<boolean> {
    const r = this.running.get(id);
    if (!r) return false;
    r.controller.abort(new TableSyncError('CANCELLED', 'cancelled'));
    for (const c of r.cancels.values()) c.cancel();
    return true;
  }

  get size(): number {
    return this.running.size;
  }
}
