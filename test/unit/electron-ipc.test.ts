import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../core/app/engine';
import { MemorySecretStore } from '../../core/settings/secret-store';
import { createDispatcher, type Dispatcher } from '../../core/api/dispatcher';
import type { ApiEvent } from '../../core/api/events';
import { createEventBatcher, isTrustedSender, registerIpc, type FrameLike, type IpcMainLike, type InvokeEventLike } from '../../electron/ipc';
import { CALL_CHANNEL } from '../../electron/channels';

// The Electron main's handler wiring, without the binary: the sender check comes before input is
// read, only the main window's top app:// frame is served, and events go out in 50 ms batches.
describe('Electron IPC: sender check and handler wiring', () => {
  let dataDir: string;
  let engine: Engine;
  let dispatched: string[];
  let handler: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>;
  let removed: string[];
  const topFrame: FrameLike = { url: 'app://tablesync/index.html', parent: null };
  let current: FrameLike | undefined = topFrame;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tablesync-ipc-'));
    engine = new Engine({ dataDir, mode: 'electron', version: '1.0.0', secrets: new MemorySecretStore() });
    const real = createDispatcher(engine);
    dispatched = [];
    const dispatcher: Dispatcher = { dispatch: (m, i) => { dispatched.push(m); return real.dispatch(m, i); } };
    removed = [];
    const ipcMain: IpcMainLike = {
      handle: (channel, listener) => { expect(channel).toBe(CALL_CHANNEL); handler = listener; },
      removeHandler: (channel) => { removed.push(channel); },
    };
    const unregister = registerIpc(ipcMain, { dispatcher, trustedFrame: () => current });
    expect(typeof unregister).toBe('function');
  });
  afterAll(async () => {
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the main window top frame on app://', async () => {
    const env = await handler({ senderFrame: topFrame }, 'app.info', {});
    expect(env).toMatchObject({ ok: true, result: { mode: 'electron', version: '1.0.0' } });
    expect(dispatched).toEqual(['app.info']);
  });

  it('validates input only after the sender check passed', async () => {
    expect(await handler({ senderFrame: topFrame }, 'flows.get', { name: 42 })).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
    expect(await handler({ senderFrame: topFrame }, { not: 'a method' }, {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
  });

  it('refuses every other sender before the dispatcher sees the call', async () => {
    dispatched.length = 0;
    const iframe: FrameLike = { url: 'app://tablesync/index.html', parent: topFrame };
    const elsewhere: FrameLike = { url: 'https://evil.example/', parent: null };
    const lookalike: FrameLike = { url: 'app://tablesync/index.html', parent: null };
    const refused = { ok: false, error: { code: 'PERMISSION_DENIED' } };
    expect(await handler({ senderFrame: null }, 'app.info', {})).toMatchObject(refused);
    expect(await handler({ senderFrame: iframe }, 'app.info', {})).toMatchObject(refused);
    expect(await handler({ senderFrame: lookalike }, 'app.info', {})).toMatchObject(refused);
    // the trusted frame itself, once navigated away from the app
    current = elsewhere;
    expect(await handler({ senderFrame: elsewhere }, 'app.info', {})).toMatchObject(refused);
    current = undefined; // window closed
    expect(await handler({ senderFrame: topFrame }, 'app.info', {})).toMatchObject(refused);
    current = topFrame;
    expect(dispatched).toEqual([]);
  });

  it('checks origins exactly', () => {
    const f = (url: string, parent: unknown = null): FrameLike => ({ url, parent });
    for (const url of ['app://tablesync.evil/index.html', 'app://evil/tablesync', 'file:///index.html', 'http://127.0.0.1/', 'not a url']) {
      const frame = f(url);
      expect(isTrustedSender(frame, frame)).toBe(false);
    }
    const ok = f('app://tablesync/screens/flows');
    expect(isTrustedSender(ok, ok)).toBe(true);
  });
});

describe('Electron IPC: event batching', () => {
  const ev = (i: number): ApiEvent => ({ event: 'flow.change', payload: { time: String(i), flow: 'f', op: 'insert', key: { id: String(i) }, outcome: 'applied', latencyMs: 1 } });

  it('sends at most one batch per 50 ms, in order', () => {
    vi.useFakeTimers();
    try {
      const batches: ApiEvent[][] = [];
      const b = createEventBatcher((events) => batches.push(events), 50);
      for (let i = 0; i < 300; i++) b.push(ev(i));
      expect(batches).toHaveLength(0);
      vi.advanceTimersByTime(49);
      expect(batches).toHaveLength(0);
      vi.advanceTimersByTime(1);
      expect(batches).toHaveLength(1);
      expect(batches[0]!.map((e) => (e.payload as { time: string }).time)).toEqual(Array.from({ length: 300 }, (_, i) => String(i)));
      b.push(ev(1000));
      vi.advanceTimersByTime(50);
      expect(batches).toHaveLength(2);
      vi.advanceTimersByTime(500);
      expect(batches).toHaveLength(2); // nothing queued, nothing sent
      b.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('drops the oldest change-feed entries, never status events, when the window cannot keep up', () => {
    vi.useFakeTimers();
    try {
      const batches: ApiEvent[][] = [];
      const b = createEventBatcher((events) => batches.push(events), 50, 10);
      b.push({ event: 'flow.listener', payload: { time: 't', flow: 'f', channel: 'c', state: 'live' } });
      for (let i = 0; i < 20; i++) b.push(ev(i));
      b.flush();
      const sent = batches[0]!;
      expect(sent).toHaveLength(10);
      expect(sent[0]!.event).toBe('flow.listener');
      expect((sent[sent.length - 1]!.payload as { time: string }).time).toBe('19');
    } finally {
      vi.useRealTimers();
    }
  });
});
