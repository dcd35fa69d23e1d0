/**
 * Browser mode: the contract over one WebSocket on the page's own origin (`/api?token=…`, the token
 * the server printed in the page URL). Calls carry ids and wait for the matching answer; events are
 * pushed. A dropped socket reconnects with backoff; calls made meanwhile are queued and sent on
 * reconnect, and calls that were in flight fail (the engine may or may not have run them, so
 * retrying is the caller's decision, not the transport's). Event subscribers stay subscribed across
 * reconnects because the server pushes every event to every socket.
 */
import type { LinkState, Transport } from './client';
import type { ApiEvent, Envelope } from './types';

const WS_PATH = '/api';

interface Pending { resolve: (e: Envelope<unknown>) => void; frame: string; sent: boolean }

export interface WsTransportOptions {
  /** Full ws:// URL; default: this page's origin + /api + the page's token. */
  url?: string;
  /** Backoff bounds in ms. */
  minDelay?: number;
  maxDelay?: number;
  /** Injected for tests (node has a global WebSocket since 22; jsdom-free tests pass a fake). */
  WebSocketImpl?: typeof WebSocket;
  /**
   * Asks the server whether the token is right (`GET /api/token?token=…`: 204 or 403). A browser
   * shows a refused WebSocket upgrade as a plain failure, so without it a page opened without its
   * token (or with an old one) would say "Reconnecting…" forever. Injected for tests.
   */
  checkToken?: (token: string) => Promise<boolean | undefined>;
}

/** What a window refused by the server is told: the server's own words. */
export const REFUSED_MESSAGE = 'This address has no valid access token: open the URL that `tablesync serve` printed (it carries the token).';

function tokenOf(url: string): string {
  try {
    return new URL(url).searchParams.get('token') ?? '';
  } catch {
    return '';
  }
}

/** Default token check: same origin as the page; undefined when the server cannot be asked. */
async function checkTokenOverHttp(token: string): Promise<boolean | undefined> {
  try {
    const r = await fetch(`/api/token?token=${encodeURIComponent(token)}`);
    if (r.status === 204) return true;
    if (r.status === 403) return false;
    return undefined;
  } catch {
    return undefined;
  }
}

/** The parts of `window.location` used here (typed locally so node-side tests type-check this file). */
interface PageLocation { search: string; protocol: string; host: string }

export function wsUrlFromLocation(loc: PageLocation): string {
  const token = new URLSearchParams(loc.search).get('token') ?? '';
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${loc.host}${WS_PATH}?token=${encodeURIComponent(token)}`;
}

export function wsTransport(opts: WsTransportOptions = {}): Transport {
  const url = opts.url ?? wsUrlFromLocation((globalThis as unknown as { location: PageLocation }).location);
  const Impl = opts.WebSocketImpl ?? WebSocket;
  const minDelay = opts.minDelay ?? 250;
  const maxDelay = opts.maxDelay ?? 5000;
  let ws: WebSocket | undefined;
  let nextId = 1;
  let attempt = 0;
  let state: LinkState = 'connecting';
  let everOpened = false;
  const token = tokenOf(url);
  const checkToken = opts.checkToken ?? checkTokenOverHttp;
  const inFlight = new Map<number, Pending>();
  const eventSubs = new Set<(events: ApiEvent[]) => void>();
  const stateSubs = new Set<(s: LinkState) => void>();

  const setState = (s: LinkState) => {
    state = s;
    for (const cb of stateSubs) cb(s);
  };

  const connect = () => {
    const sock = new Impl(url);
    ws = sock;
    sock.onopen = () => {
      attempt = 0;
      everOpened = true;
      setState('open');
      for (const p of inFlight.values()) {
        if (!p.sent) {
          sock.send(p.frame);
          p.sent = true;
        }
      }
    };
    sock.onmessage = (msg) => {
      let frame: unknown;
      try {
        frame = JSON.parse(String(msg.data));
      } catch {
        return;
      }
      if (!frame || typeof frame !== 'object') return;
      const f = frame as { id?: number; envelope?: Envelope<unknown>; event?: string };
      if (f.envelope && f.id !== undefined) {
        const p = inFlight.get(Number(f.id));
        if (p) {
          inFlight.delete(Number(f.id));
          p.resolve(f.envelope);
        }
      } else if (typeof f.event === 'string') {
        const batch = [frame as ApiEvent];
        for (const cb of eventSubs) cb(batch);
      }
    };
    sock.onclose = (ev) => {
      if (ws !== sock) return;
      // The server refuses a bad token with a policy close: retrying cannot help.
      if (ev.code === 1008 || ev.code === 4401 || ev.code === 4403) {
        refuse();
        return;
      }
      failInFlight('The connection to TableSync was lost while this call was running.');
      setState('reconnecting');
      const retry = () => {
        const delay = Math.min(maxDelay, minDelay * 2 ** attempt) * (0.75 + Math.random() * 0.5);
        attempt += 1;
        setTimeout(connect, delay);
      };
      // Never got in: ask the server whether the token is the problem (a refused upgrade looks like
      // any other failure from here); a server that cannot be asked is retried as usual.
      if (!everOpened && attempt === 0) {
        void checkToken(token).then((ok) => (ok === false ? refuse() : retry()));
      } else retry();
    };
    sock.onerror = () => {
      /* onclose follows and decides */
    };
  };

  const refuse = () => {
    for (const [id, p] of inFlight) {
      inFlight.delete(id);
      p.resolve({ ok: false, error: { code: 'CONNECTION_FAILED', message: REFUSED_MESSAGE } });
    }
    setState('closed');
  };

  const failInFlight = (message: string) => {
    for (const [id, p] of inFlight) {
      if (!p.sent) continue; // never left this window: it goes out on reconnect
      inFlight.delete(id);
      p.resolve({ ok: false, error: { code: 'CONNECTION_FAILED', message } });
    }
  };

  // A page opened without a token cannot get in: say so at once instead of trying.
  if (token) connect();
  else queueMicrotask(refuse);

  return {
    request(method, input) {
      const id = nextId++;
      const frame = JSON.stringify({ id, method, input });
      return new Promise((resolve) => {
        if (state === 'closed') {
          resolve({ ok: false, error: { code: 'CONNECTION_FAILED', message: REFUSED_MESSAGE } });
          return;
        }
        const open = !!ws && ws.readyState === Impl.OPEN;
        inFlight.set(id, { resolve, frame, sent: open });
        if (open) ws!.send(frame);
      });
    },
    onEvents(cb) {
      eventSubs.add(cb);
      return () => eventSubs.delete(cb);
    },
    onLinkState(cb) {
      stateSubs.add(cb);
      cb(state);
      return () => stateSubs.delete(cb);
    },
  };
}
