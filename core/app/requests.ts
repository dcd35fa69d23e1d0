/**
 * Long calls the UI can cancel (`query.cancel` with the call's requestId). A running request has an
 * AbortSignal (for applies and anything that checks it) and the PostgreSQL backends serving it,
 * cancelled with pg_cancel_backend from a separate connection, since the busy one cannot speak.
 */
import { connectClient } from '../connections/pool';
import { TableSyncError } from '../errors';

interface Running {
  controller: AbortController;
  backends: { url: string; pid: number }[];
}

export interface RequestHandle {
  readonly signal: AbortSignal;
  /** Record a backend that serves this request. */
  backend(url: string, pid: number): void;
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
    const r: Running = { controller: new AbortController(), backends: [] };
    if (id !== undefined) {
      if (this.running.has(id)) throw new TableSyncError('INVALID_INPUT', `a request with id "${id}" is already running`);
      this.running.set(id, r);
    }
    const handle: RequestHandle = {
      signal: r.controller.signal,
      backend: (url, pid) => {
        if (r.backends.some((b) => b.url === url && b.pid === pid)) return;
        r.backends.push({ url, pid });
        // cancelled before the query reached its backend: stop it as soon as it starts
        if (r.controller.signal.aborted) void cancelBackend(url, pid);
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
    }
  }

  /** Cancel request `id`; false when no such request is running (already finished). */
  async cancel(id: string): Promise<boolean> {
    const r = this.running.get(id);
    if (!r) return false;
    r.controller.abort(new TableSyncError('CANCELLED', 'cancelled'));
    await Promise.all(r.backends.map(({ url, pid }) => cancelBackend(url, pid)));
    return true;
  }

  get size(): number {
    return this.running.size;
  }
}

async function cancelBackend(url: string, pid: number): Promise<void> {
  let client;
  try {
    client = await connectClient(url, { applicationName: 'tablesync cancel' });
    await client.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    /* the query may have finished meanwhile, or the server is gone: nothing left to cancel */
  } finally {
    await client?.end().catch(() => {});
  }
}
