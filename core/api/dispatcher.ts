/**
 * The one dispatcher: validate a call against the contract, run its handler on the engine, and
 * answer with an envelope. Both transports (electron/ipc.ts, transport.ws.ts) call `dispatch` and
 * only move envelopes, so a method added to the contract and to handlers.ts works in both.
 *
 * - unknown method → UNKNOWN_METHOD
 * - input failing the method's schema → INVALID_REQUEST, zod issues in `detail.issues`
 * - engine errors → the TableSyncError's stable code, message and detail
 * - the output is validated too: a handler that answers off-contract is a bug, reported as INTERNAL
 *   rather than handed to the renderer, and fields the contract does not name are stripped (the
 *   output schemas are the whitelist of what may leave the engine).
 */
import { ZodError } from 'zod';
import { toTableSyncError, type ErrorCode } from '../errors';
import { redactDeep, redactSecrets } from '../connections/redact';
import type { Engine } from '../app/engine';
import { isMethodName, methods } from './contract';
import type { ENGINE_ERROR_CODES, ApiError, Envelope } from './errors';
import { handlers } from './handlers';

// The contract's copy of the engine's codes must match core/errors.ts exactly (both directions).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const codesAgree: Same<ErrorCode, (typeof ENGINE_ERROR_CODES)[number]> = true;
void codesAgree;

export interface DispatcherOptions {
  /** Validate handler outputs against the contract (default true; packaged apps may turn it off). */
  validateOutput?: boolean;
}

export interface Dispatcher {
  dispatch(method: string, rawInput: unknown): Promise<Envelope<unknown>>;
}

export function createDispatcher(engine: Engine, opts: DispatcherOptions = {}): Dispatcher {
  const validateOutput = opts.validateOutput ?? true;
  return {
    async dispatch(method, rawInput) {
      if (typeof method !== 'string' || !isMethodName(method)) {
        return fail({ code: 'UNKNOWN_METHOD', message: `unknown method "${String(method)}"`, detail: { method: String(method) } });
      }
      const spec = methods[method];
      const parsed = spec.input.safeParse(rawInput === undefined || rawInput === null ? {} : rawInput);
      if (!parsed.success) {
        return fail({
          code: 'INVALID_REQUEST',
          message: `invalid input for ${method}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`,
          detail: { issues: jsonSafe(parsed.error.issues) },
        });
      }
      let result: unknown;
      try {
        const handler = handlers[method] as (e: Engine, input: unknown) => unknown;
        result = await handler(engine, parsed.data);
      } catch (e) {
        return fail(toApiError(e));
      }
      if (!validateOutput) return { ok: true, result };
      const out = spec.output.safeParse(result);
      if (!out.success) {
        return fail({ code: 'INTERNAL', message: `${method} answered outside the contract (a bug): ${out.error.issues[0]?.message ?? ''}`, detail: { issues: jsonSafe(out.error.issues) } });
      }
      return { ok: true, result: out.data };
    },
  };
}

function fail(error: ApiError): Envelope<never> {
  return { ok: false, error };
}

/** Anything thrown by the engine as the envelope's error: stable code, readable message, plain detail. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ZodError) {
    return { code: 'INVALID_INPUT', message: e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), detail: { issues: jsonSafe(e.issues) } };
  }
  const err = toTableSyncError(e);
  // Last line of defence: whatever built the message, no password leaves the engine in it.
  const detail = err.detail ? (jsonSafe(err.detail) as Record<string, unknown> | undefined) : undefined;
  return { code: err.code, message: redactSecrets(err.message), ...(detail ? { detail: redactDeep(detail) } : {}) };
}

/** Detail crosses IPC and WebSocket as JSON: drop what JSON cannot carry (functions, cycles, bigint). */
function jsonSafe(v: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)));
  } catch {
    return undefined;
  }
}
