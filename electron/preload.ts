/**
 * The renderer's only door to the main process. contextBridge exposes named functions (never
 * ipcRenderer itself, which would let any script in the page send on any channel):
 * `window.tablesync.call(method, input)` → envelope, `window.tablesync.onEvents(cb)` → unsubscribe.
 * Runs sandboxed: bundled to one CommonJS file that requires only 'electron'.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { CALL_CHANNEL, EVENTS_CHANNEL } from './channels';

type Listener = (events: unknown[]) => void;
const listeners = new Set<Listener>();

ipcRenderer.on(EVENTS_CHANNEL, (_event, events: unknown) => {
  if (!Array.isArray(events)) return;
  for (const cb of listeners) {
    try {
      cb(events);
    } catch {
      /* one subscriber's bug must not starve the others */
    }
  }
});

contextBridge.exposeInMainWorld('tablesync', {
  mode: 'electron',
  call: (method: string, input: unknown): Promise<unknown> => ipcRenderer.invoke(CALL_CHANNEL, String(method), input),
  onEvents: (cb: Listener): (() => void) => {
    if (typeof cb !== 'function') throw new TypeError('onEvents needs a function');
    listeners.add(cb);
    return () => { listeners.delete(cb); };
  },
});
