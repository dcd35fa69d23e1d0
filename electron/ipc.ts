/**
 * The Electron IPC adapter, written against small interfaces instead of Electron's objects so the
 * rules are unit-tested without the binary (test/unit/electron-ipc.test.ts):
 *
 * - A call is answered only for the main window's top frame showing the app:// renderer; any other
 *   sender (an iframe, a navigated-away page, another window) is refused BEFORE its input is read or
 *   validated, and the dispatcher never sees it.
 * - Calls go to the one dispatcher and come back as envelopes (Electron keeps only an Error's
 *   message, so nothing is thrown across IPC).
 * - Events are pushed in batches, at most one message per `intervalMs` (50 ms), so a busy live flow
 *   cannot flood the renderer with thousands of IPC messages a second.
 */
import type { Dispatcher } from '../core/api/dispatcher';
import type { Envelope } from '../core/api/errors';
import type { ApiEvent } from '../core/api/events';
import { APP_ORIGIN, CALL_CHANNEL } from './channels';

/** The parts of Electron's WebFrameMain the sender check reads. */
export interface FrameLike {
  readonly url: string;
  readonly parent: unknown;
}

export interface InvokeEventLike {
  readonly senderFrame: FrameLike | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface IpcOptions {
  dispatcher: Dispatcher;
  /** The main window's top frame right now (undefined while there is no window). */
  trustedFrame: () => FrameLike | undefined;
}

/** Is this the frame we trust: the main window's top frame, on the app:// origin? */
export function isTrustedSender(frame: FrameLike | null, trusted: FrameLike | undefined): boolean {
  if (!frame || !trusted || frame !== trusted) return false;
  if (frame.parent !== null) return false;
  try {
    return new URL(frame.url).origin === APP_ORIGIN || frame.url.startsWith(`${APP_ORIGIN}/`);
  } catch {
    return false;
  }
}

const REFUSED: Envelope<never> = {
  ok: false,
  error: { code: 'PERMISSION_DENIED', message: 'refused: this call did not come from the TableSync window' },
};

/** Register the contract's one IPC handler. Returns the function that removes it. */
export function registerIpc(ipcMain: IpcMainLike, opts: IpcOptions): () => void {
  ipcMain.handle(CALL_CHANNEL, async (event, method, input) => {
    if (!isTrustedSender(event.senderFrame, opts.trustedFrame())) return REFUSED;
    return opts.dispatcher.dispatch(typeof method === 'string' ? method : String(method), input);
  });
  return () => ipcMain.removeHandler(CALL_CHANNEL);
}

export interface EventBatcher {
  push(e: ApiEvent): void;
  /** Send what is queued now. */
  flush(): void;
  stop(): void;
}

/**
 * Queue events and hand them to `send` as one array at most every `intervalMs`. A queue past
 * `maxQueued` drops its oldest change-feed entries first (status and progress events are kept).
 */
export function createEventBatcher(send: (events: ApiEvent[]) => void, intervalMs = 50, maxQueued = 5000): EventBatcher {
  let queue: ApiEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    send(batch);
  };
  return {
    push(e) {
      queue.push(e);
      if (queue.length > maxQueued) {
        const i = queue.findIndex((x) => x.event === 'flow.change');
        queue.splice(i >= 0 ? i : 0, 1);
      }
      timer ??= setTimeout(flush, intervalMs);
    },
    flush() {
      if (timer) clearTimeout(timer);
      flush();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      queue = [];
    },
  };
}
