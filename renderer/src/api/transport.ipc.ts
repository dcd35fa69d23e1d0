/** Electron: the preload's `window.tablesync` bridge already speaks envelopes and batched events. */
import type { Transport } from './client';
import type { TableSyncBridge } from './types';

declare global {
  interface Window { tablesync?: TableSyncBridge }
}

export function ipcBridge(): TableSyncBridge | undefined {
  // globalThis, not window: unit tests type-check this file without the DOM lib.
  return (globalThis as { tablesync?: TableSyncBridge }).tablesync;
}

export function ipcTransport(bridge: TableSyncBridge): Transport {
  return {
    request: (method, input) => bridge.call(method as never, input as never),
    onEvents: (cb) => bridge.onEvents(cb),
  };
}
