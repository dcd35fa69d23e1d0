// The Electron transport speaks the preload bridge: envelopes become results or ApiCallError with
// the engine's code, and batched events reach subscribers one by one until they unsubscribe.
import { describe, expect, it } from 'vitest';
import { clientOver } from '../../renderer/src/api/client';
import { ipcTransport } from '../../renderer/src/api/transport.ipc';
import type { ApiEvent, TableSyncBridge } from '../../renderer/src/api/types';

function bridge() {
  const subs = new Set<(e: ApiEvent[]) => void>();
  const calls: Array<[string, unknown]> = [];
  const b: TableSyncBridge = {
    mode: 'electron',
    call: (async (method: string, input: unknown) => {
      calls.push([method, input]);
      if (method === 'flows.get') return { ok: false, error: { code: 'NOT_FOUND', message: 'no saved flow "x"' } };
      return { ok: true, result: [] };
    }) as TableSyncBridge['call'],
    onEvents: (cb) => {
      subs.add(cb);
      return () => subs.delete(cb);
    },
  };
  return { b, calls, push: (batch: ApiEvent[]) => subs.forEach((cb) => cb(batch)) };
}

describe('IPC transport', () => {
  it('unwraps envelopes and keeps error codes', async () => {
    const { b, calls } = bridge();
    const api = clientOver(ipcTransport(b));
    await expect(api.call('connections.list', {})).resolves.toEqual([]);
    await expect(api.call('flows.get', { name: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'no saved flow "x"' });
    expect(calls).toEqual([['connections.list', {}], ['flows.get', { name: 'x' }]]);
  });

  it('delivers batched events one by one, until unsubscribed', () => {
    const { b, push } = bridge();
    const api = clientOver(ipcTransport(b));
    const got: string[] = [];
    const off = api.onEvent((e) => got.push(e.event));
    push([
      { event: 'settings.changed', payload: { what: 'flows' } },
      { event: 'settings.changed', payload: { what: 'connections' } },
    ]);
    off();
    push([{ event: 'settings.changed', payload: { what: 'flows' } }]);
    expect(got).toEqual(['settings.changed', 'settings.changed']);
  });
});
