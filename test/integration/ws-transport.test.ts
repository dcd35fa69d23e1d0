import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import WebSocket from 'ws';
import { Engine } from '../../core/app/engine';
import { startWsServer, type RunningWsServer } from '../../core/api/transport.ws';
import { waitFor } from '../support/live';

// Browser mode's transport: loopback only, the token and the Origin both required, the same
// envelopes and events as IPC, and a client that reconnects is served again.
describe('WebSocket transport', () => {
  let dataDir: string;
  let staticDir: string;
  let engine: Engine;
  let server: RunningWsServer;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tablesync-ws-'));
    staticDir = join(dataDir, 'renderer');
    mkdirSync(join(staticDir, 'assets'), { recursive: true });
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><script type="module" src="./assets/app.js"></script>');
    writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log("app")');
    engine = new Engine({ dataDir, mode: 'browser', version: '1.2.3' });
    server = await startWsServer({ engine, staticDir });
  });
  afterAll(async () => {
    await server?.close();
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path, headers }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Open a socket; resolves with it, or with the HTTP status the upgrade was refused with. */
  function connect(query: string, origin: string | null = server.origin): Promise<WebSocket | number> {
    return new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api${query}`, origin ? { headers: { Origin: origin } } : {});
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => resolve(-1));
    });
  }

  function client(ws: WebSocket) {
    let next = 1;
    const frames: unknown[] = [];
    const waiters = new Map<number, (e: unknown) => void>();
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as { id?: number; envelope?: unknown };
      if (f.id !== undefined && waiters.has(f.id)) waiters.get(f.id)!(f.envelope);
      else frames.push(f);
    });
    return {
      frames,
      call: (method: string, input?: unknown) => new Promise<unknown>((resolve) => {
        const id = next++;
        waiters.set(id, resolve);
        ws.send(JSON.stringify({ id, method, input }));
      }),
    };
  }

  it('refuses to bind anything but loopback', async () => {
    await expect(startWsServer({ engine, host: '0.0.0.0' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(startWsServer({ engine, host: '192.168.1.10' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('prints a loopback URL with a 32-byte base64url token', () => {
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[A-Za-z0-9_-]{43}$`));
  });

  it('serves the page only with the token, then its assets by the cookie that response set', async () => {
    expect((await get('/')).status).toBe(403);
    expect((await get('/assets/app.js')).status).toBe(403);
    expect((await get('/?token=wrong')).status).toBe(403);
    const page = await get(`/?token=${server.token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('assets/app.js');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    expect(cookie).not.toContain(server.token);
    const asset = await get('/assets/app.js', { cookie });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect((await get('/../../etc/passwd', { cookie })).body).not.toContain('root:');
    expect((await get('/..%2f..%2f..%2fetc%2fpasswd', { cookie })).status).toBe(403);
    // a DNS-rebound name is not this server, whatever it resolves to
    expect((await get(`/?token=${server.token}`, { host: `evil.example:${server.port}` })).status).toBe(403);
  });

  it('answers whether a token is right, so a refused page can say so (a browser cannot see a 403 upgrade)', async () => {
    expect((await get(`/api/token?token=${server.token}`)).status).toBe(204);
    expect((await get('/api/token?token=AAAA')).status).toBe(403);
    const page = await get(`/?token=${server.token}`);
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    // the asset cookie opens the page again, but it is not the token
    expect((await get('/api/token', { cookie })).status).toBe(403);
  });

  it('refuses a WebSocket without the token, with a wrong one, or from another Origin', async () => {
    expect(await connect('')).toBe(403);
    expect(await connect('?token=AAAA')).toBe(403);
    expect(await connect(`?token=${server.token}x`)).toBe(403);
    expect(await connect(`?token=${server.token}`, 'http://evil.example')).toBe(403);
    expect(await connect(`?token=${server.token}`, `http://127.0.0.1:${server.port + 1}`)).toBe(403);
    expect(await connect(`?token=${server.token}`, null)).toBe(403);
    expect(server.clients).toBe(0);
  });

  it('carries calls as envelopes with the same codes as IPC', async () => {
    const ws = await connect(`?token=${server.token}`);
    expect(ws).toBeInstanceOf(WebSocket);
    const c = client(ws as WebSocket);
    expect(await c.call('app.info')).toMatchObject({ ok: true, result: { mode: 'browser', version: '1.2.3' } });
    expect(await c.call('nope.never', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    expect(await c.call('flows.get', { name: 1 })).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(await c.call('flows.get', { name: 'missing' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    (ws as WebSocket).send('not json');
    const refused = { id: null, envelope: expect.objectContaining({ ok: false, error: expect.objectContaining({ code: 'INVALID_REQUEST' }) }) };
    await waitFor('the refusal of a frame that is not JSON', () => c.frames.some((f) => expect.objectContaining(refused).asymmetricMatch(f)));
    expect(c.frames).toContainEqual(refused);
    (ws as WebSocket).close();
  });

  it('pushes engine events to every client, and to a client that reconnected', async () => {
    const a = await connect(`?token=${server.token}`) as WebSocket;
    const b = await connect(`?token=${server.token}`) as WebSocket;
    const ca = client(a);
    const cb = client(b);
    engine.events.emit('settings.changed', { what: 'flows' });
    const pushed = (frames: unknown[]) => frames.some((f) => (f as { event?: string }).event === 'settings.changed');
    await waitFor('the event on both sockets', () => pushed(ca.frames) && pushed(cb.frames));
    expect(ca.frames).toContainEqual({ event: 'settings.changed', payload: { what: 'flows' } });
    expect(cb.frames).toContainEqual({ event: 'settings.changed', payload: { what: 'flows' } });

    // the tab's socket drops and it reconnects with the same token: served and subscribed again
    a.terminate();
    await waitFor('the server to drop the terminated socket', () => server.clients === 1);
    const again = await connect(`?token=${server.token}`) as WebSocket;
    const cagain = client(again);
    engine.events.emit('flow.listener', { time: new Date().toISOString(), flow: 'f', channel: 'c', state: 'live' });
    await waitFor('the event on the new socket', () => cagain.frames.some((f) => (f as { event?: string }).event === 'flow.listener'));
    expect(cagain.frames).toContainEqual(expect.objectContaining({ event: 'flow.listener', payload: expect.objectContaining({ state: 'live' }) }));
    expect(await cagain.call('app.info')).toMatchObject({ ok: true });
    expect(server.clients).toBe(2);
    again.close();
    b.close();
  });

  it('says how to build the UI when it is not built', async () => {
    const bare = await startWsServer({ engine, staticDir: join(dataDir, 'missing') });
    try {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        request({ host: '127.0.0.1', port: bare.port, path: `/?token=${bare.token}` }, (r) => {
          let body = '';
          r.on('data', (d: Buffer) => (body += d.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        }).on('error', reject).end();
      });
      expect(res.status).toBe(200);
      expect(res.body).toContain('vite build --config renderer/vite.config.ts');
    } finally {
      await bare.close();
    }
  });
});
