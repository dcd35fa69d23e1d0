/**
 * Browser mode (`tablesync serve`): the built renderer over HTTP and the API contract over a
 * WebSocket, on the loopback interface only. Whoever reaches this server reaches the user's
 * databases, so:
 *
 * - It binds 127.0.0.1 / ::1 only; any other host is refused.
 * - A random token (32 bytes, base64url) is printed in the URL. The WebSocket upgrade requires it
 *   (`/api?token=…`, compared in constant time) AND an Origin header equal to this server's own
 *   origin: another local user lacks the token, and a web page in the user's browser (which could
 *   guess the port) cannot forge the Origin. Anything else gets 403 before any frame is read.
 * - The HTML needs the token too. Its scripts and styles are loaded by relative URLs that cannot
 *   carry it, so the page's response sets an HttpOnly, SameSite=Strict cookie holding an HMAC of the
 *   token that admits static files only: cookies are not port-scoped, and this one is useless for
 *   the WebSocket if another local server ever sees it.
 * - The Host header must name the loopback address (no DNS-rebinding), and pages are served with a
 *   strict CSP and `Referrer-Policy: no-referrer` so the token does not leak through a Referer.
 *
 * Frames: `{ id, method, input }` → `{ id, envelope }`; events are pushed as `{ event, payload }`,
 * the same envelopes and events as Electron IPC (core/api/contract.transport.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { EXPORT_DOWNLOAD_PATH } from './contract.export';
import { exportsOf } from '../app/exports';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { resolveStatic, staticSecurityHeaders } from './static-files';
import { createWsAuth, newAccessToken } from './ws-auth';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Engine } from '../app/engine';
import { TableSyncError } from '../errors';
import { WS_PATH, wsRequestFrame, type WsServerFrame } from './contract.transport';
import { createDispatcher, type Dispatcher } from './dispatcher';
import type { ApiEvent } from './events';

export const LOOPBACK_HOSTS = ['127.0.0.1', '::1', 'localhost'] as const;

export interface WsServerOptions {
  engine: Engine;
  dispatcher?: Dispatcher;
  host?: string;
  /** 0 or absent: a free port. */
  port?: number;
  /** Default: 32 random bytes, base64url. */
  token?: string;
  /** The built renderer (dist/renderer). */
  staticDir?: string;
  /** Change events are dropped for a client whose socket has this much unsent data (slow tab). */
  maxBufferedBytes?: number;
}

export interface RunningWsServer {
  readonly port: number;
  readonly host: string;
  readonly token: string;
  /** `http://127.0.0.1:PORT/?token=…`: the one URL to open. */
  readonly url: string;
  /** The origin a WebSocket upgrade must come from. */
  readonly origin: string;
  readonly clients: number;
  close(): Promise<void>;
}

export async function startWsServer(opts: WsServerOptions): Promise<RunningWsServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!(LOOPBACK_HOSTS as readonly string[]).includes(host)) {
    throw new TableSyncError('INVALID_INPUT', `tablesync serve binds to the loopback interface only (127.0.0.1, ::1 or localhost), not "${host}": anyone who reaches it reaches your databases`);
  }
  const token = opts.token ?? newAccessToken();
  const dispatcher = opts.dispatcher ?? createDispatcher(opts.engine);
  const maxBuffered = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
  const staticDir = opts.staticDir ? resolve(opts.staticDir) : undefined;
  let port = 0;
  // Set once the port is known (before the first request can arrive).
  let auth = createWsAuth(token, 0);

  const server = createServer((req, res) => {
    try {
      handleHttp(req, res);
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });

  function refuse(res: ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(text);
  }

  function securityHeaders(): Record<string, string> {
    return {
      ...staticSecurityHeaders([`ws://127.0.0.1:${port}`, `ws://localhost:${port}`, `ws://[::1]:${port}`]),
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    };
  }

  function handleHttp(req: IncomingMessage, res: ServerResponse): void {
    if (!auth.hostOk(req.headers.host)) return refuse(res, 403, 'Forbidden: unexpected Host header.\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'Method not allowed.\n');
    const u = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const withToken = auth.tokenOk(u.searchParams.get('token'));
    // The page asks this when its WebSocket is refused (a browser cannot see the 403 of an upgrade),
    // so it can say "open the URL that was printed" instead of reconnecting forever.
    if (u.pathname === '/api/token') {
      res.writeHead(withToken ? 204 : 403, { ...securityHeaders(), 'cache-control': 'no-store' });
      res.end();
      return;
    }
    if (!withToken && !auth.cookieOk(req.headers.cookie)) {
      return refuse(res, 403, 'Forbidden: open the URL that `tablesync serve` printed (it carries the access token).\n');
    }
    const headers: Record<string, string> = { ...securityHeaders() };
    // A browser-mode export download: streamed from the database into this response.
    if (u.pathname.startsWith(`${EXPORT_DOWNLOAD_PATH}/`)) return exportsOf(opts.engine).serveDownload(u.pathname.slice(EXPORT_DOWNLOAD_PATH.length + 1), res, headers);
    if (withToken) headers['set-cookie'] = auth.setCookie();

    if (!staticDir || !existsSync(join(staticDir, 'index.html'))) {
      res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(notBuiltPage());
      return;
    }
    const hit = resolveStatic(staticDir, u.pathname);
    if (hit.kind === 'forbidden') return refuse(res, 403, 'Forbidden.\n');
    if (hit.kind === 'not-found' && u.pathname === '/favicon.ico') return void res.writeHead(204, headers).end();
    if (hit.kind === 'not-found') return refuse(res, 404, 'Not found.\n');
    const target = hit.file;
    res.writeHead(200, {
      ...headers,
      'content-type': hit.contentType,
      'cache-control': hit.isHtml ? 'no-store' : 'no-cache',
    });
    if (req.method === 'HEAD') return void res.end();
    res.end(readFileSync(target));
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  const sockets = new Set<WebSocket>();

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const deny = (status: number, reason: string) => {
      socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    const u = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (u.pathname !== WS_PATH) return deny(404, 'Not Found');
    if (!auth.hostOk(req.headers.host)) return deny(403, 'Forbidden');
    if (!auth.tokenOk(u.searchParams.get('token'))) return deny(403, 'Forbidden');
    // The page's own origin, and only it: a page elsewhere in the user's browser cannot connect.
    if (!auth.originOk(req.headers.origin, req.headers.host)) return deny(403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    let alive = true;
    ws.on('pong', () => { alive = true; });
    const ping = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, 30_000);
    ping.unref();
    ws.on('close', () => {
      clearInterval(ping);
      sockets.delete(ws);
    });
    ws.on('error', () => { /* close follows */ });
    ws.on('message', (data, isBinary) => {
      void onMessage(ws, isBinary ? undefined : data.toString());
    });
  });

  async function onMessage(ws: WebSocket, text: string | undefined): Promise<void> {
    let frame: unknown;
    try {
      frame = text === undefined ? undefined : JSON.parse(text);
    } catch {
      frame = undefined;
    }
    const parsed = wsRequestFrame.safeParse(frame);
    if (!parsed.success) {
      const id = frame && typeof frame === 'object' && 'id' in frame ? (frame as { id: unknown }).id : null;
      send(ws, {
        id: typeof id === 'string' || typeof id === 'number' ? id : null,
        envelope: { ok: false, error: { code: 'INVALID_REQUEST', message: 'a request frame is a JSON object { id, method, input }' } },
      });
      return;
    }
    const envelope = await dispatcher.dispatch(parsed.data.method, parsed.data.input);
    send(ws, { id: parsed.data.id, envelope });
  }

  function send(ws: WebSocket, frame: WsServerFrame): void {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(JSON.stringify(frame));
  }

  const unsubscribe = opts.engine.events.on((e: ApiEvent) => {
    if (sockets.size === 0) return;
    const text = JSON.stringify(e);
    for (const ws of sockets) {
      if (ws.readyState !== ws.OPEN) continue;
      // A tab that cannot keep up loses change-feed entries, never answers or status changes.
      if (e.event === 'flow.change' && ws.bufferedAmount > maxBuffered) continue;
      ws.send(text);
    }
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  port = (server.address() as AddressInfo).port;
  auth = createWsAuth(token, port);
  const urlHost = host === '::1' ? '[::1]' : host;
  const origin = `http://${urlHost}:${port}`;

  return {
    port,
    host,
    token,
    url: `${origin}/?token=${token}`,
    origin,
    get clients() { return sockets.size; },
    close: async () => {
      unsubscribe();
      for (const ws of sockets) ws.close(1001, 'server shutting down');
      await new Promise<void>((r) => wss.close(() => r()));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function notBuiltPage(): string {
  return `<!doctype html><meta charset="utf-8"><title>TableSync</title>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>TableSync is running, but its user interface is not built yet</h1>
<p>Build it once, then reload this page (keep the same URL, it carries the access token):</p>
<pre style="background:#f3f3f3;padding:1rem">npx vite build --config renderer/vite.config.ts</pre>
<p>The API is already available on this server's WebSocket.</p>
</body>`;
}
