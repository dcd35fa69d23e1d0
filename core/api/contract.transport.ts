/**
 * What the two transports carry, so a renderer-side client can speak either:
 *
 * - Electron: the preload exposes `window.tablesync` (TableSyncBridge): `call(method, input)`
 *   resolves to an envelope (never rejects for engine errors); `onEvents(cb)` delivers events in
 *   batches and returns an unsubscribe function.
 * - Browser mode: a WebSocket at `ws://127.0.0.1:PORT/api?token=TOKEN` (the token is the one in the
 *   page's URL). Client frames: `{ id, method, input }`; server frames: `{ id, envelope }` answering
 *   a call, or `{ event, payload }` pushing an event. JSON text frames.
 *
 * Part of the contract: zod and contract files only.
 */
import { z } from 'zod';
import type { Envelope } from './errors';
import type { MethodInput, MethodName, MethodOutput } from './contract';
import type { ApiEvent } from './events';

export const WS_PATH = '/api';

export const wsRequestFrame = z.object({
  id: z.union([z.string().min(1).max(200), z.number().int()]),
  method: z.string(),
  input: z.unknown().optional(),
});
export type WsRequestFrame = z.infer<typeof wsRequestFrame>;

/** `id` is null only when a malformed frame had no usable id. */
export type WsResponseFrame = { id: string | number | null; envelope: Envelope<unknown> };
export type WsEventFrame = ApiEvent;
export type WsServerFrame = WsResponseFrame | WsEventFrame;

/** `window.tablesync` in the Electron window (exposed by electron/preload.ts through contextBridge). */
export interface TableSyncBridge {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<Envelope<MethodOutput<M>>>;
  /** Events arrive in batches (every ~50 ms while there are any). Returns an unsubscribe function. */
  onEvents(cb: (events: ApiEvent[]) => void): () => void;
  /** Always 'electron' (browser mode has no bridge). */
  readonly mode: 'electron';
}
