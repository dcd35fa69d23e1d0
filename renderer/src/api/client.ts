/**
 * The renderer's one door to the engine. Stores depend on this interface only, so they run the same
 * over Electron IPC, the browser-mode WebSocket, or an in-memory fake in a unit test.
 */
import { ApiCallError } from '../../../core/api/errors';
import type { ApiEvent, Envelope, MethodInput, MethodName, MethodOutput } from './types';

export { ApiCallError };

/** Whether the transport can currently reach the engine (the WebSocket may be reconnecting). */
export type LinkState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ApiClient {
  /** Calls a contract method; rejects with ApiCallError (stable `code`) when the engine says no. */
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
  /** Subscribes to every engine event; returns the unsubscribe function. */
  onEvent(cb: (e: ApiEvent) => void): () => void;
  /** Subscribes to the link state; optional because IPC is always open. */
  onLinkState?(cb: (s: LinkState) => void): () => void;
}

/** What a transport does: move one envelope per call and push events. Nothing else. */
export interface Transport {
  request(method: string, input: unknown): Promise<Envelope<unknown>>;
  onEvents(cb: (events: ApiEvent[]) => void): () => void;
  onLinkState?(cb: (s: LinkState) => void): () => void;
}

export function clientOver(transport: Transport): ApiClient {
  const client: ApiClient = {
    async call(method, input) {
      const env = await transport.request(method, input);
      if (env.ok) return env.result as never;
      throw new ApiCallError(env.error.code, env.error.message, env.error.detail);
    },
    onEvent(cb) {
      return transport.onEvents((batch) => {
        for (const e of batch) cb(e);
      });
    },
  };
  if (transport.onLinkState) client.onLinkState = transport.onLinkState.bind(transport);
  return client;
}

/** A message for a person from anything a call may throw. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiCallError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

export function errorCode(e: unknown): string | undefined {
  return e instanceof ApiCallError ? e.code : undefined;
}

let seq = 0;
/** A request id for `query.cancel`: unique within this window. */
export function newRequestId(prefix = 'r'): string {
  seq += 1;
  return `${prefix}-${Date.now().toString(36)}-${seq}`;
}
