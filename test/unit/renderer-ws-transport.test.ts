// The browser-mode client over a real WebSocket: answers matched by id, errors as ApiCallError with
// the stable code, events pushed, and a dropped socket reconnecting by itself (calls made while it
// is down go out after the reconnect; a call that was in flight fails instead of hanging).
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, WebSocket as WsClient, type WebSocket as ServerSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { ApiCallError, clientOver, type LinkState } from '../../renderer/src/api/client';
import { REFUSED_MESSAGE, wsTransport } from '../../renderer/src/api/transport.ws';

let wss: WebSocketServer | undefined;
afterEach(async () => {
  for (const c of wss?.clients ?? []) c.terminate();
  await new Promise<void>((r) => (wss ? wss.close(() => r()) : r()));
  wss = undefined;
});

async function server(onFrame: (ws: ServerSocket, f: { id: number; method: string; input: unknown }) => void) {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss!.once('listening', r));
  wss.on('connection', (ws) => ws.on('message', (d) => onFrame(ws, JSON.parse(d.toString()))));
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/api?token=t`;
}

const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('WebSocket transport', () => {
  it('matches answers to calls and turns error envelopes into ApiCallError', async () => {
    const url = await server((ws, f) => {
      const envelope = f.method === 'connections.list' ? { ok: true, result: [] } : { ok: false, error: { code: 'NOT_FOUND', message: 'no flow "x"' } };
      // answer out of order: the second call first
      setTimeout(() => ws.send(JSON.stringify({ id: f.id, envelope })), f.method === 'connections.list' ? 30 : 0);
    });
    const api = clientOver(wsTransport({ url, WebSocketImpl: WsClient as unknown as typeof WebSocket }));
    const a = api.call('connections.list', {});
    const b = api.call('flows.get', { name: 'x' });
    await expect(b).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'no flow "x"' });
    await expect(b).rejects.toBeInstanceOf(ApiCallError);
    await expect(a).resolves.toEqual([]);
  });

  it('delivers pushed events', async () => {
    const url = await server(() => {});
    const api = clientOver(wsTransport({ url, WebSocketImpl: WsClient as unknown as typeof WebSocket }));
    const got: string[] = [];
    api.onEvent((e) => got.push(e.event));
    await until(() => (wss?.clients.size ?? 0) === 1);
    for (const c of wss!.clients) c.send(JSON.stringify({ event: 'settings.changed', payload: { what: 'flows' } }));
    await until(() => got.length === 1);
    expect(got).toEqual(['settings.changed']);
  });

  it('reconnects after the socket drops; in-flight calls fail, new ones wait and go through', async () => {
    let answer = true;
    const url = await server((ws, f) => {
      if (answer) ws.send(JSON.stringify({ id: f.id, envelope: { ok: true, result: [] } }));
    });
    const states: LinkState[] = [];
    const t = wsTransport({ url, WebSocketImpl: WsClient as unknown as typeof WebSocket, minDelay: 20, maxDelay: 50 });
    t.onLinkState!((s) => states.push(s));
    const api = clientOver(t);
    await api.call('connections.list', {});
    answer = false;
    const inFlight = api.call('connections.list', {});
    await until(() => states.length > 0 && states.at(-1) === 'open');
    await new Promise((r) => setTimeout(r, 20));
    for (const c of wss!.clients) c.terminate();
    await expect(inFlight).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    answer = true;
    const later = api.call('connections.list', {});
    await expect(later).resolves.toEqual([]);
    expect(states).toContain('reconnecting');
    expect(states.at(-1)).toBe('open');
  });

  it('a page opened without its token says so at once, instead of reconnecting forever', async () => {
    const url = await server(() => {});
    const states: LinkState[] = [];
    const t = wsTransport({ url: url.replace('?token=t', ''), WebSocketImpl: WsClient as unknown as typeof WebSocket });
    t.onLinkState!((s) => states.push(s));
    await expect(clientOver(t).call('connections.list', {})).rejects.toMatchObject({ code: 'CONNECTION_FAILED', message: REFUSED_MESSAGE });
    expect(states.at(-1)).toBe('closed');
    expect(REFUSED_MESSAGE).toContain('open the URL that `tablesync serve` printed');
    expect(wss!.clients.size).toBe(0);
  });

  it('a refused token (a 403 upgrade, which a browser cannot see) is asked about once and reported', async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', verifyClient: (_info, cb) => cb(false, 403) });
    await new Promise((r) => wss!.once('listening', r));
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/api?token=stale`;
    const asked: string[] = [];
    const states: LinkState[] = [];
    const t = wsTransport({ url, WebSocketImpl: WsClient as unknown as typeof WebSocket, minDelay: 10, checkToken: async (tok) => { asked.push(tok); return false; } });
    t.onLinkState!((s) => states.push(s));
    await until(() => states.at(-1) === 'closed');
    expect(asked).toEqual(['stale']);
    await expect(clientOver(t).call('connections.list', {})).rejects.toMatchObject({ message: REFUSED_MESSAGE });
  });

  it('a server that cannot be asked is retried as a lost connection', async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', verifyClient: (_info, cb) => cb(false, 503) });
    await new Promise((r) => wss!.once('listening', r));
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/api?token=t`;
    const states: LinkState[] = [];
    let tries = 0;
    const t = wsTransport({ url, WebSocketImpl: WsClient as unknown as typeof WebSocket, minDelay: 10, maxDelay: 20, checkToken: async () => { tries++; return undefined; } });
    t.onLinkState!((s) => states.push(s));
    await until(() => states.filter((s) => s === 'reconnecting').length >= 2);
    expect(tries).toBe(1);
    expect(states).not.toContain('closed');
  });
});
